import { createHash } from "node:crypto";

/**
 * A service account id for a service's runtime identity: 6-30 characters, lowercase letters, digits
 * and '-', starting with a letter. Long service names are cut and given a hash suffix so that two
 * long names sharing a prefix still get distinct, stable ids.
 */
export function runtimeAccountId(service: string): string {
  const id = `${service}-run`;
  if (id.length <= 30) return id.length >= 6 ? id : `${id}-sa`;
  const hash = createHash("sha256").update(service).digest("hex").slice(0, 6);
  return `${service.slice(0, 19).replace(/-+$/, "")}-${hash}-run`;
}

/** The email Google assigns to a user-managed service account. */
export function serviceAccountEmail(accountId: string, project: string): string {
  return `${accountId}@${project}.iam.gserviceaccount.com`;
}
