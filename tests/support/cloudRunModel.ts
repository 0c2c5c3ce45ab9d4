import type { LiveCondition, LiveRegionRead, LiveRegionState, LiveRevision } from "../../model/live";
import { canonicalJson } from "../../model/release/revisionName";

/**
 * A small, pure model of how the Cloud Run v2 API treats one service in one region: its revisions, its
 * spec (what the last update asked for) and its status (what serves), to check that what the program
 * asks for would be accepted and what users get when a release fails. It knows only the rules a canary
 * release can break; everything else about a request is assumed valid. Sources: Cloud Run's v2 protos
 * and docs, and Knative Serving, whose API and semantics Cloud Run implements (the route reconciler
 * refuses an unready revision: `pkg/reconciler/route/traffic/traffic.go`, `addRevisionTarget`).
 *
 * Refused outright (4xx): nothing changes, not even the spec.
 * 1. A revision name starts with `<service>-`, uses lowercase letters, digits and '-', starts with a
 *    letter, does not end with '-' and has at most 63 characters.
 * 2. Revisions are immutable: naming an existing revision with a different template is a 409. The same
 *    name with the same template creates nothing: a failed revision stays failed, and a template naming
 *    an older revision exactly is a revert to it.
 * 3. A revision traffic target names a revision that exists, or the one this request creates.
 * 4. Percents are whole numbers >= 0 that sum to exactly 100.
 * 5. Tags are unique within the service, and tag length + service name length <= 46.
 * 6. A service keeps at most 1000 revisions (failed ones count).
 *
 * Accepted, then failed: the spec (template, traffic, generation) is recorded as asked, but the status
 * (`trafficStatuses`, `latestReadyRevision`, `observedGeneration`) keeps the last serving state, and the
 * terminal condition is failed.
 * 7. A revision the request creates becomes ready or fails, as the caller injects. An update whose
 *    template names a revision that is not ready fails; `latestCreatedRevision` is that revision.
 * 8. A traffic list naming a revision that is not ready fails, whatever its percent or tag.
 */

export const MAX_REVISIONS = 1000;
export const MAX_TAG_PLUS_SERVICE = 46;
const NAME = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export interface TrafficRequest {
  readonly revision: string;
  readonly percent: number;
  readonly tag?: string;
}

/** One update of a service, as the Cloud Run API receives it from `pulumi up`. */
export interface DesiredService {
  readonly service: string;
  /** `template.revision`: the name of the revision the template creates. */
  readonly templateRevision: string;
  readonly template: unknown;
  readonly traffic: readonly TrafficRequest[];
  /** The service's own `scaling.minInstanceCount`, shared by the revisions that get traffic. */
  readonly minInstances?: number;
}

/** Whether a revision an update creates becomes ready (a crash at start or a failing probe: `fails`). */
export type RevisionOutcome = "ready" | "fails";

export type ApplyResult =
  | { readonly ok: true; readonly created: boolean }
  /** Refused (rules 1-6): nothing changed. */
  | { readonly ok: false; readonly recorded: false; readonly reason: string }
  /** Failed (rules 7-8): the spec changed, the status kept the last serving state. */
  | { readonly ok: false; readonly recorded: true; readonly created: boolean; readonly reason: string };

/** Why Cloud Run would refuse a revision name for `service`, or undefined when it is fine (rule 1). */
export function revisionNameProblem(service: string, name: string): string | undefined {
  if (!name.startsWith(`${service}-`)) return `revision name "${name}" must start with "${service}-"`;
  if (name.length > 63) return `revision name "${name}" is longer than 63 characters`;
  if (!NAME.test(name)) {
    return `revision name "${name}" must use lowercase letters, digits and '-', start with a letter and not end with '-'`;
  }
  return undefined;
}

/**
 * Checks a request against rules 1-6, given the existing revisions (name -> canonical template JSON),
 * without changing them.
 */
export function checkRequest(
  revisions: ReadonlyMap<string, string>,
  desired: DesiredService,
):
  | { readonly ok: true; readonly created: boolean; readonly template: string }
  | { readonly ok: false; readonly reason: string } {
  const { service, templateRevision, traffic } = desired;
  const fail = (reason: string) => ({ ok: false as const, reason });

  const nameProblem = revisionNameProblem(service, templateRevision);
  if (nameProblem) return fail(`rule 1: ${nameProblem}`);

  const template = canonicalJson(desired.template);
  const existing = revisions.get(templateRevision);
  if (existing !== undefined && existing !== template) {
    return fail(
      `rule 2: 409 Conflict: Revision named ${templateRevision} with different configuration already exists`,
    );
  }
  const created = existing === undefined;

  for (const target of traffic) {
    if (target.revision !== templateRevision && !revisions.has(target.revision)) {
      return fail(`rule 3: Revision ${target.revision} does not exist or is deleted`);
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

/** What serves: changed only by an update that succeeds. */
interface Status {
  readonly observedGeneration: number;
  readonly latestReadyRevision?: string;
  readonly trafficStatuses: readonly TrafficRequest[];
  readonly minInstances: number;
}

const notReady = (revision: string) => `Revision '${revision}' is not ready and cannot serve traffic.`;

/** One Cloud Run service in one region, updated again and again. */
export class CloudRunService {
  /** Revision name -> canonical template JSON, oldest first (the Admin API lists newest first). */
  private readonly templates = new Map<string, string>();
  private readonly ready = new Set<string>();
  private generation = 0;
  private asked: DesiredService | undefined;
  private latestCreated: string | undefined;
  private terminal: LiveCondition | undefined;
  private status: Status = { observedGeneration: 0, trafficStatuses: [], minInstances: 0 };

  constructor(
    readonly name: string,
    readonly region: string,
  ) {}

  /** An independent copy, to try an update without changing this service. */
  clone(): CloudRunService {
    const copy = new CloudRunService(this.name, this.region);
    for (const [name, template] of this.templates) copy.templates.set(name, template);
    for (const name of this.ready) copy.ready.add(name);
    copy.generation = this.generation;
    copy.asked = this.asked;
    copy.latestCreated = this.latestCreated;
    copy.terminal = this.terminal;
    copy.status = this.status;
    return copy;
  }

  /** Status: the traffic list that serves (`trafficStatuses`). */
  get serving(): readonly TrafficRequest[] {
    return this.status.trafficStatuses;
  }

  /** Spec: the last update Cloud Run recorded, served or not (what `pulumi refresh` reads back). */
  get spec(): DesiredService | undefined {
    return this.asked;
  }

  /** Revision name -> canonical template JSON, for every revision created so far, failed ones too. */
  get revisions(): ReadonlyMap<string, string> {
    return this.templates;
  }

  isReady(revision: string): boolean {
    return this.ready.has(revision);
  }

  /**
   * Sends one update. `outcome` decides whether a revision it creates becomes ready (rule 7); an
   * existing revision keeps the outcome it had.
   */
  apply(desired: DesiredService, outcome: RevisionOutcome = "ready"): ApplyResult {
    if (desired.service !== this.name) {
      return {
        ok: false,
        recorded: false,
        reason: `request for service ${desired.service} sent to ${this.name}`,
      };
    }
    const check = checkRequest(this.revisions, desired);
    if (!check.ok) return { ok: false, recorded: false, reason: check.reason };

    this.generation++;
    this.asked = structuredClone(desired);
    const created = check.created;
    if (created) {
      this.templates.set(desired.templateRevision, check.template);
      if (outcome === "ready") this.ready.add(desired.templateRevision);
    }
    // A revert names an older revision: it becomes the latest created (and ready, if it is) again.
    this.latestCreated = desired.templateRevision;
    const failed = (reason: string, latestReadyRevision = this.status.latestReadyRevision): ApplyResult => {
      this.status = { ...this.status, latestReadyRevision };
      this.terminal = { state: "failed", reason: "REVISION_FAILED", message: reason };
      return { ok: false, recorded: true, created, reason };
    };

    if (!this.isReady(desired.templateRevision))
      return failed(`rule 7: ${notReady(desired.templateRevision)}`);
    const unready = desired.traffic.find((t) => !this.isReady(t.revision));
    if (unready) return failed(`rule 8: ${notReady(unready.revision)}`, desired.templateRevision);

    this.status = {
      observedGeneration: this.generation,
      latestReadyRevision: desired.templateRevision,
      trafficStatuses: desired.traffic,
      minInstances: desired.minInstances ?? 0,
    };
    this.terminal = { state: "succeeded" };
    return { ok: true, created };
  }

  /** The service as the Admin API reports it (`GetService` + `ListRevisions`), spec and status side by side. */
  state(): LiveRegionState {
    if (!this.asked) return { region: this.region, service: this.name, exists: false };
    const revisions: LiveRevision[] = [...this.templates.keys()].reverse().map((name) => ({
      name,
      ready: this.isReady(name),
      failed: !this.isReady(name),
      reconciling: false,
      ...(this.isReady(name)
        ? {}
        : {
            reason: "HEALTH_CHECK_CONTAINER_ERROR",
            message: "The user-provided container failed to start and listen on the port.",
          }),
    }));
    const traffic = (list: readonly TrafficRequest[]) =>
      list.map((t) => ({ allocation: "revision" as const, ...t }));
    return {
      region: this.region,
      service: this.name,
      exists: true,
      reconciling: false,
      generation: this.generation,
      observedGeneration: this.status.observedGeneration,
      ...(this.status.latestReadyRevision ? { latestReadyRevision: this.status.latestReadyRevision } : {}),
      ...(this.latestCreated ? { latestCreatedRevision: this.latestCreated } : {}),
      ...(this.terminal ? { terminalCondition: this.terminal } : {}),
      traffic: traffic(this.asked.traffic),
      trafficStatuses: traffic(this.status.trafficStatuses),
      revisions,
    };
  }

  /** `state()` as the CLI's Admin API reader returns it. */
  read(): LiveRegionRead {
    return { region: this.region, ok: true, state: this.state() };
  }

  /**
   * Instances kept warm. A template's `scaling.minInstanceCount` starts for every addressable revision:
   * one that gets traffic, and a tagged one at 0% too ("Tagged revisions are started"). The service's own
   * min instances are divided among the revisions that get traffic, so they count once.
   */
  warmInstances(): number {
    const addressable = this.status.trafficStatuses.filter((t) => t.percent > 0 || t.tag !== undefined);
    const perRevision = [...new Set(addressable.map((t) => t.revision))].reduce((sum, name) => {
      const template = JSON.parse(this.templates.get(name) ?? "{}") as {
        scaling?: { minInstanceCount?: number };
      };
      return sum + (template.scaling?.minInstanceCount ?? 0);
    }, 0);
    return perRevision + (this.status.trafficStatuses.length > 0 ? this.status.minInstances : 0);
  }
}
