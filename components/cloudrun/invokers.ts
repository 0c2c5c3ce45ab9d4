import type { ServiceConfig } from "../../model/types";

/** Who may call a service: everyone when it is public, then each listed member; once each, sorted. */
export function invokerMembers(svc: Pick<ServiceConfig, "allowUnauthenticated" | "invokers">): string[] {
  const members = [...(svc.allowUnauthenticated ? ["allUsers"] : []), ...svc.invokers];
  return [...new Set(members)].sort();
}

/** A stable, name-safe slug for an IAM member, so that reordering invokers replaces nothing. */
export function memberSlug(member: string): string {
  if (member === "allUsers") return "public";
  return member
    .toLowerCase()
    .replace(/^[a-z]+:/, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 40);
}
