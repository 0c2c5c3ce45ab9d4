import { canonicalJson } from "../../model/release/revisionName";

/**
 * A small, pure model of how the Cloud Run v2 API treats a service's revisions and traffic, to check
 * that what the program asks for would be accepted. It knows only the rules that a canary release can
 * break; everything else about a request is assumed valid.
 *
 * 1. A revision name starts with `<service>-`, uses lowercase letters, digits and '-', starts with a
 *    letter, does not end with '-' and has at most 63 characters.
 * 2. Revisions are immutable: naming an existing revision with a different template is a 409; the same
 *    name with the same template is accepted and creates nothing.
 * 3. A revision traffic target names a revision that exists, or the one this request creates.
 * 4. Percents are whole numbers >= 0 that sum to exactly 100.
 * 5. Tags are unique within the service, and tag length + service name length <= 46.
 * 6. A service keeps at most 1000 revisions.
 */

export const MAX_REVISIONS = 1000;
export const MAX_TAG_PLUS_SERVICE = 46;
const NAME = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface TrafficRequest {
  readonly revision: string;
  readonly percent: number;
  readonly tag?: string;
}

/** One `pulumi up` of a service, as the Cloud Run API receives it. */
export interface DesiredService {
  readonly service: string;
  /** `template.revision`: the name of the revision the template creates. */
  readonly templateRevision: string;
  readonly template: unknown;
  readonly traffic: readonly TrafficRequest[];
}

export type ApplyResult =
  { readonly ok: true; readonly created: boolean } | { readonly ok: false; readonly reason: string };

/** Why Cloud Run would refuse a revision name for `service`, or undefined when it is fine (rule 1). */
export function revisionNameProblem(service: string, name: string): string | undefined {
  if (!name.startsWith(`${service}-`)) return `revision name "${name}" must start with "${service}-"`;
  if (name.length > 63) return `revision name "${name}" is longer than 63 characters`;
  if (!NAME.test(name)) {
    return `revision name "${name}" must use lowercase letters, digits and '-', start with a letter and not end with '-'`;
  }
  return undefined;
}

/** Checks a request against the existing revisions (name -> canonical template JSON) without changing them. */
export function checkRequest(
  revisions: ReadonlyMap<string, string>,
  desired: DesiredService,
): ApplyResult & { readonly template?: string } {
  const { service, templateRevision, traffic } = desired;
  const fail = (reason: string) => ({ ok: false as const, reason });

  const nameProblem = revisionNameProblem(service, templateRevision);
  if (nameProblem) return fail(`rule 1: ${nameProblem}`);

  const template = canonicalJson(desired.template);
  const existing = revisions.get(templateRevision);
  if (existing !== undefined && existing !== template) {
    return fail(
      `rule 2: 409 Conflict: revision ${templateRevision} already exists with a different template`,
    );
  }
  const created = existing === undefined;

  for (const target of traffic) {
    if (target.revision !== templateRevision && !revisions.has(target.revision)) {
      return fail(`rule 3: Revision ${target.revision} does not exist`);
    }
  }

  for (const target of traffic) {
    if (!Number.isInteger(target.percent) || target.percent < 0) {
      return fail(`rule 4: percent ${target.percent} of ${target.revision} is not a whole number >= 0`);
    }
  }
  const sum = traffic.reduce((total, t) => total + t.percent, 0);
  if (sum !== 100) return fail(`rule 4: traffic percents sum to ${sum}, not 100`);

  const tags = traffic.flatMap((t) => (t.tag === undefined ? [] : [t.tag]));
  const duplicate = tags.find((tag, i) => tags.indexOf(tag) !== i);
  if (duplicate !== undefined) return fail(`rule 5: tag "${duplicate}" is used more than once`);
  const long = tags.find((tag) => tag.length + service.length > MAX_TAG_PLUS_SERVICE);
  if (long !== undefined) {
    return fail(`rule 5: tag "${long}" + service "${service}" is longer than ${MAX_TAG_PLUS_SERVICE}`);
  }

  if (created && revisions.size + 1 > MAX_REVISIONS) {
    return fail(`rule 6: service ${service} would have more than ${MAX_REVISIONS} revisions`);
  }
  return { ok: true, created, template };
}

/** One Cloud Run service, deployed to again and again: keeps the revisions the accepted requests created. */
export class CloudRunService {
  private readonly known = new Map<string, string>();
  private current: readonly TrafficRequest[] = [];

  constructor(readonly name: string) {}

  /** The traffic list of the last accepted request: what the service serves. */
  get serving(): readonly TrafficRequest[] {
    return this.current;
  }

  /** Revision name -> canonical template JSON, for every revision created so far. */
  get revisions(): ReadonlyMap<string, string> {
    return this.known;
  }

  /** Sends one request; only an accepted one changes the service. */
  apply(desired: DesiredService): ApplyResult {
    if (desired.service !== this.name) {
      return { ok: false, reason: `request for service ${desired.service} sent to ${this.name}` };
    }
    const result = checkRequest(this.known, desired);
    if (!result.ok) return { ok: false, reason: result.reason };
    if (result.created && result.template !== undefined)
      this.known.set(desired.templateRevision, result.template);
    this.current = desired.traffic;
    return { ok: true, created: result.created };
  }
}
