import { createHash } from "node:crypto";

/**
 * A service account id for a service's runtime identity: 6-30 characters, lowercase letters, digits
 * and '-', starting with a letter. Long service names are cut and given a hash suffix so that two
 * long names sharing a prefix still get distinct, stable ids.
 */
export function runtimeAccountId(service: string): string {
  return serviceAccountId(service, "run");
}

/** The account Pub/Sub signs its push requests to a service as (an OIDC token the service checks). */
export function pushAccountId(service: string): string {
  return serviceAccountId(service, "push");
}

function serviceAccountId(service: string, role: "run" | "push"): string {
  const id = `${service}-${role}`;
  if (id.length <= 30) return id.length >= 6 ? id : `${id}-sa`;
  const hash = createHash("sha256").update(service).digest("hex").slice(0, 6);
  return `${service.slice(0, 22 - role.length).replace(/-+$/, "")}-${hash}-${role}`;
}

/** The email Google assigns to a user-managed service account. */
export function serviceAccountEmail(accountId: string, project: string): string {
  return `${accountId}@${project}.iam.gserviceaccount.com`;
}
