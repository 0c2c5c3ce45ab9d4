import * as fs from "node:fs";
import type { LiveCondition, LiveRegionRead, LiveServiceRead, LiveTrafficStatus } from "../../model/live";
import { servicePlan } from "../../model/release/servicePlan";
import type { LiveCloudRun } from "../../cli/rollout/ports";
import { loadValidStack } from "../../cli/stackEditor";

/**
 * An in-memory stand-in for Cloud Run as the rollout sees it: `apply` is what one `pulumi up` of a stack
 * file does to the service in each region, `read` is what the Admin API then reports (the shapes of
 * model/live.ts, as cli/live/cloudRunAdmin.ts builds them). It follows the rules of FIELD-NOTES ("Cloud
 * Run when a release fails"):
 *
 * - A template naming a new revision creates it; it becomes ready, fails (never ready), or is pending
 *   for a number of reads, as the scenario says per region. The same name again creates nothing, and a
 *   failed revision stays failed.
 * - An update whose template revision failed, or whose traffic names a revision that is not ready, is
 *   refused: the spec keeps what was asked, the status (latestReadyRevision, trafficStatuses,
 *   observedGeneration) keeps the last serving state, terminalCondition is failed, and `apply` throws
 *   the provider's error, as `pulumi up` would.
 * - Reverting the template to an existing ready revision (a rollback) is accepted.
 *
 * The state lives in a JSON file, so that a rollout in a child process and the test share it.
 */

export type Outcome = "ready" | "fails" | "pending";

export interface CloudScenario {
  /** What a newly created revision does in each region; default ready. */
  readonly newRevision?: Readonly<Record<string, Outcome>>;
  /** Reads a pending revision stays not ready for; default 2. */
  readonly pendingReads?: number;
  /** Regions whose next `times` reads fail (e.g. the API is unavailable there). */
  readonly unreadable?: { readonly region: string; readonly times: number };
  /** A region that serves this percent on the canary whatever was asked (drift). */
  readonly wrongPercent?: { readonly region: string; readonly percent: number };
}

interface Revision {
  name: string;
  outcome: Outcome;
  readsLeft: number;
}

interface Region {
  generation: number;
  observedGeneration: number;
  reconciling: boolean;
  latestReadyRevision?: string;
  latestCreatedRevision?: string;
  terminal: LiveCondition;
  traffic: { revision: string; percent: number; tag?: string }[];
  trafficStatuses: { revision: string; percent: number; tag?: string }[];
  revisions: Revision[];
}

interface State {
  project: string;
  service: string;
  scenario: CloudScenario;
  reads: number;
  regions: Record<string, Region>;
}

const notReady = (revision: string) => `Revision '${revision}' is not ready and cannot serve traffic.`;

export class StandInCloudRun implements LiveCloudRun {
  constructor(readonly file: string) {}

  /** A service whose regions serve what the stack file in `dir` says, as if its last `up` succeeded. */
  static seed(file: string, dir: string, stack: string, service: string, scenario: CloudScenario = {}) {
    const { config } = loadValidStack(dir, stack);
    const cloud = new StandInCloudRun(file);
    cloud.save({ project: config.project, service, scenario: {}, reads: 0, regions: {} });
    cloud.apply(dir, stack, true);
    cloud.update((s) => (s.scenario = scenario));
    return cloud;
  }

  private load(): State {
    return JSON.parse(fs.readFileSync(this.file, "utf8")) as State;
  }
  private save(s: State): void {
    fs.writeFileSync(this.file, JSON.stringify(s));
  }
  update(change: (s: State) => void): void {
    const s = this.load();
    change(s);
    this.save(s);
  }

  set scenario(scenario: CloudScenario) {
    this.update((s) => (s.scenario = scenario));
  }
  get reads(): number {
    return this.load().reads;
  }
  /** What a region serves: revision to percent. */
  serving(region: string): Record<string, number> {
    const r = this.load().regions[region];
    return Object.fromEntries((r?.trafficStatuses ?? []).map((t) => [t.revision, t.percent]));
  }
  revision(region: string, name: string): Revision | undefined {
    return this.load().regions[region]?.revisions.find((r) => r.name === name);
  }

  /**
   * One `pulumi up` of `Pulumi.<stack>.yaml` in `dir`; throws the provider's error when refused.
   * `history`: the revisions the traffic names exist already, ready (the service's past).
   */
  apply(dir: string, stack: string, history = false): void {
    const { config } = loadValidStack(dir, stack);
    const s = this.load();
    const svc = config.services.find((x) => x.name === s.service);
    const plan = svc && servicePlan(config, svc).plan;
    if (!svc || !plan) throw new Error(`stand-in: no plan for ${s.service}`);
    const errors: string[] = [];
    for (const region of svc.regions) {
      const r: Region = (s.regions[region] ??= {
        generation: 0,
        observedGeneration: 0,
        reconciling: false,
        terminal: { state: "succeeded" },
        traffic: [],
        trafficStatuses: [],
        revisions: [],
      });
      r.generation++;
      r.traffic = plan.traffic.map((t) => ({ ...t }));
      if (history)
        for (const t of plan.traffic)
          if (!r.revisions.some((x) => x.name === t.revision))
            r.revisions.push({ name: t.revision, outcome: "ready", readsLeft: 0 });
      let template = r.revisions.find((x) => x.name === plan.templateRevision);
      if (!template) {
        const outcome = s.scenario.newRevision?.[region] ?? "ready";
        template = { name: plan.templateRevision, outcome, readsLeft: s.scenario.pendingReads ?? 2 };
        r.revisions.unshift(template);
      }
      r.latestCreatedRevision = template.name;
      const unready = [
        template,
        ...plan.traffic.map((t) => r.revisions.find((x) => x.name === t.revision)),
      ].find((x) => !x || x.outcome === "fails");
      if (unready || template.outcome === "fails") {
        const name = unready?.name ?? template.name;
        r.reconciling = false;
        r.terminal = { state: "failed", reason: "REVISION_FAILED", message: notReady(name) };
        errors.push(`gcp:cloudrunv2:Service (${s.service}-${region}): error: ${notReady(name)}`);
        continue;
      }
      if (template.outcome === "pending") {
        r.reconciling = true;
        r.terminal = { state: "reconciling" };
        continue;
      }
      this.serve(s, region, r);
    }
    this.save(s);
    if (errors.length > 0) throw new Error(errors.join("\n"));
  }

  /** The asked state takes effect in a region. */
  private serve(s: State, region: string, r: Region): void {
    r.reconciling = false;
    r.terminal = { state: "succeeded" };
    r.latestReadyRevision = r.latestCreatedRevision;
    r.observedGeneration = r.generation;
    const drift = s.scenario.wrongPercent?.region === region ? s.scenario.wrongPercent.percent : undefined;
    r.trafficStatuses = r.traffic.map((t) =>
      t.tag === "canary" && drift !== undefined ? { ...t, percent: drift } : { ...t },
    );
  }

  async read(service: string, regions: readonly string[]): Promise<LiveServiceRead> {
    const s = this.load();
    s.reads++;
    const out: LiveRegionRead[] = regions.map((region) => {
      if (s.scenario.unreadable?.region === region && s.scenario.unreadable.times > 0) {
        s.scenario = { ...s.scenario, unreadable: { region, times: s.scenario.unreadable.times - 1 } };
        return {
          region,
          ok: false,
          failure: {
            kind: "unavailable",
            status: "UNAVAILABLE",
            attempts: 4,
            reason: `the Cloud Run Admin API did not answer for ${region}`,
            fix: "retry in a few minutes",
          },
        };
      }
      const r = s.regions[region];
      if (!r || service !== s.service) return { region, ok: true, state: { region, service, exists: false } };
      // A pending revision settles after some reads, and the service with it.
      for (const rev of r.revisions.filter((x) => x.outcome === "pending")) {
        if (rev.readsLeft-- > 0) continue;
        rev.outcome = "ready";
        if (r.reconciling && r.latestCreatedRevision === rev.name) this.serve(s, region, r);
      }
      const statuses: LiveTrafficStatus[] = r.trafficStatuses.map((t) => ({
        allocation: "revision",
        revision: t.revision,
        percent: t.percent,
        ...(t.tag ? { tag: t.tag, uri: `https://${t.tag}---${service}-123.${region}.run.app` } : {}),
      }));
      return {
        region,
        ok: true,
        state: {
          region,
          service,
          exists: true,
          reconciling: r.reconciling,
          generation: r.generation,
          observedGeneration: r.observedGeneration,
          ...(r.latestReadyRevision ? { latestReadyRevision: r.latestReadyRevision } : {}),
          ...(r.latestCreatedRevision ? { latestCreatedRevision: r.latestCreatedRevision } : {}),
          terminalCondition: r.terminal,
          traffic: r.traffic.map((t) => ({ allocation: "revision" as const, ...t })),
          trafficStatuses: statuses,
          revisions: r.revisions.map((rev) => ({
            name: rev.name,
            ready: rev.outcome === "ready" ? true : rev.outcome === "fails" ? false : undefined,
            failed: rev.outcome === "fails",
            reconciling: rev.outcome === "pending",
            ...(rev.outcome === "fails"
              ? {
                  reason: "HEALTH_CHECK_CONTAINER_ERROR",
                  message: "The container failed to start and listen on PORT=8080.",
                }
              : rev.outcome === "pending"
                ? { reason: "PENDING" }
                : {}),
          })),
        },
      };
    });
    this.save(s);
    return { project: s.project, service, regions: out };
  }
}
