import { strict as assert } from "node:assert";
import fc from "fast-check";
import type { ConfigIssue } from "../config/errors";
import { SERVICE_NAME } from "../config/schema";
import { applyToObject, type Edit } from "../model/canary/edits";
import {
  CanaryRuleError,
  promoteCanary,
  rollbackCanary,
  setCanaryPercent,
  startCanary,
} from "../model/canary/lifecycle";
import { runtimeAccountId, serviceAccountEmail } from "../model/identity";
import {
  liveHealth,
  revisionReadiness,
  type LiveRegionRead,
  type LiveRegionState,
  type RevisionReadiness,
} from "../model/live";
import { desiredState } from "../model/release/desiredState";
import { awaitedRevision, MAX_SERVICE_NAME_WITH_BASELINE } from "../model/release/baseline";
import { attemptId, canonicalJson } from "../model/release/revisionName";
import { servicePlan } from "../model/release/servicePlan";
import { serviceScaling } from "../model/release/template";
import type { ReleasePlan } from "../model/release/traffic";
import { PROJECT, type ServiceConfig, type StackConfig } from "../model/types";
import {
  CloudRunService,
  type ApplyResult,
  type DesiredService,
  type RevisionOutcome,
} from "./support/cloudRunModel";
import { digest, REPO, validate } from "./support/render";

/**
 * Random sequences of canary operations and settings edits, each "deployed" in turn (like `pulumi up`)
 * to one model of Cloud Run per region, with failures injected into any deploy in any region: the canary
 * revision fails to start there, or the update never reaches Cloud Run. The properties check what users
 * get after every step, and that the CLI alone always finds a way back.
 *
 * `pulumi up` is modelled as the CLI and the bridged provider behave (pulumi-terraform-bridge
 * `provider.go`, Update and Diff): it calls Cloud Run only for a region whose recorded state differs from
 * the program's, and a failed update returns the error with the requested state, which is recorded, so a
 * plain retry may not call Cloud Run at all; `--refresh` reads the live spec back first.
 */

const STACK = "prod";
const SERVICES = `${PROJECT}:services`;
const REGION_POOL = ["europe-west1", "europe-west4", "us-central1"] as const;
const NUM_RUNS = 60;
const MAX_OPS = 12;
const T0 = Date.UTC(2026, 0, 1);

// ---------------------------------------------------------------------------------------------------
// The stack file, as an object: `{config: {"gcp:project": ..., "ai-orchestra:services": {...}}}`.

interface StackFile {
  readonly config: Record<string, unknown>;
}

type RawService = Record<string, unknown> & {
  env?: Record<string, string>;
  scaling?: Record<string, number>;
};

interface Initial {
  readonly name: string;
  readonly stableImage: string;
  readonly regions: readonly string[];
  readonly memory?: string;
  readonly env?: Record<string, string>;
  readonly scaling?: { minInstances?: number; maxInstances?: number; concurrency?: number };
  readonly healthCheckPath?: string;
}

function firstDeployFile(init: Initial): StackFile {
  const service: RawService = {
    repository: REPO,
    regions: [...init.regions],
    stable: { image: init.stableImage },
  };
  if (init.memory !== undefined) service.memory = init.memory;
  if (init.env !== undefined) service.env = { ...init.env };
  if (init.scaling !== undefined) service.scaling = { ...init.scaling };
  if (init.healthCheckPath !== undefined) service.healthCheckPath = init.healthCheckPath;
  return {
    config: {
      "gcp:project": "proj-test",
      "gcp:region": "europe-west1",
      [`${PROJECT}:environment`]: STACK,
      [`${PROJECT}:labels`]: { team: "orchestra" },
      [SERVICES]: { [init.name]: service },
    },
  };
}

/** Pulumi's view of the stack file: `namespace:key` -> string, objects as JSON. */
function flatten(file: StackFile): Record<string, string> {
  return Object.fromEntries(
    Object.entries(file.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

function rawService(file: StackFile, name: string): RawService {
  return (file.config[SERVICES] as Record<string, RawService>)[name];
}

// ---------------------------------------------------------------------------------------------------
// Operations, each with the failures injected into the `pulumi up` that follows it.

/** What goes wrong in one region during a `pulumi up`. */
type Fault =
  /**
   * A revision the update creates there for the release under test (the canary, or its baseline) never
   * becomes ready (crash at start, failing probe).
   */
  | "canary-fails"
  /** The update never reaches Cloud Run there (503, network): nothing changes in that region. */
  | "transient"
  | "none";

type SettingsChange =
  | { readonly setting: "memory"; readonly value: string }
  | { readonly setting: "env"; readonly name: string; readonly value: string }
  | { readonly setting: "maxInstances" | "concurrency" | "minInstances"; readonly value: number }
  | { readonly setting: "cpuAllocation"; readonly value: "request" | "instance" };

type Action =
  /** `baseline`: `canary start --baseline`. */
  | { readonly kind: "start"; readonly image: string; readonly percent?: number; readonly baseline?: boolean }
  /**
   * `evidence`: readiness read from every region's status, as `orchestra canary set` does; else none.
   * `drop`: `--drop-baseline`.
   */
  | { readonly kind: "set"; readonly percent: number; readonly evidence: boolean; readonly drop?: boolean }
  | { readonly kind: "promote" }
  | { readonly kind: "rollback" }
  /** A setting edited in the stack file by hand. */
  | { readonly kind: "settings"; readonly change: SettingsChange }
  | { readonly kind: "regions"; readonly regions: readonly string[] }
  /** `pulumi up` again with the stack file as it is, with `--refresh` or without. */
  | { readonly kind: "up"; readonly refresh: boolean };

interface Injected {
  /** By index in REGION_POOL. */
  readonly faults: readonly Fault[];
  /** Seconds since the previous operation: `canary start` names its attempt from the clock. */
  readonly wait: number;
}

type Op = Action & Injected;

const NO_FAULTS: readonly Fault[] = REGION_POOL.map(() => "none");
const faultAt = (faults: readonly Fault[], region: string): Fault =>
  faults[REGION_POOL.indexOf(region as (typeof REGION_POOL)[number])] ?? "none";

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  { weight: 6, arbitrary: fc.constant("none" as const) },
  { weight: 2, arbitrary: fc.constant("canary-fails" as const) },
  { weight: 1, arbitrary: fc.constant("transient" as const) },
);
const faultsArb = fc.array(faultArb, { minLength: REGION_POOL.length, maxLength: REGION_POOL.length });
const allFail = fc.constant<readonly Fault[]>(REGION_POOL.map(() => "canary-fails"));
const someFail = fc
  .tuple(faultsArb, fc.nat(REGION_POOL.length - 1))
  .map(([faults, i]) => faults.map((f, j) => (j === i ? "canary-fails" : f)));
const someTransient = fc
  .tuple(faultsArb, fc.nat(REGION_POOL.length - 1))
  .map(([faults, i]) => faults.map((f, j) => (j === i ? "transient" : f)));
/** Mostly a later second; sometimes the same second as the operation before. */
const waitArb = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.nat(86_400) });

const poolImage = fc.integer({ min: 0, max: 2 }).map((n) => `${REPO}@${digest(`pool-${n}`)}`);
/** Mostly fresh digests; sometimes one from a small pool, to re-release an earlier image or the stable one. */
const imageArb = fc.oneof(
  { weight: 3, arbitrary: fc.nat().map((n) => `${REPO}@${digest(`fresh-${n}`)}`) },
  { weight: 1, arbitrary: poolImage },
);
const validPercent = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(0, 100));
const anyPercent = fc.oneof(
  { weight: 8, arbitrary: validPercent },
  { weight: 1, arbitrary: fc.constantFrom(-1, 101, 2.5, Number.NaN) },
);

const memoryArb = fc.constantFrom("512Mi", "1Gi", "2Gi");
const envNameArb = fc.constantFrom("LOG_LEVEL", "FEATURE_FLAGS");
const envValueArb = fc.oneof(fc.constantFrom("info", "debug", "on"), fc.stringMatching(/^[a-z0-9]{0,8}$/));
const settingsChangeArb: fc.Arbitrary<SettingsChange> = fc.oneof(
  memoryArb.map((value) => ({ setting: "memory" as const, value })),
  fc.record({ setting: fc.constant("env" as const), name: envNameArb, value: envValueArb }),
  fc.record({
    setting: fc.constantFrom("maxInstances" as const, "concurrency" as const),
    value: fc.integer({ min: 1, max: 100 }),
  }),
  fc.integer({ min: 0, max: 3 }).map((value) => ({ setting: "minInstances" as const, value })),
  fc.constantFrom("request" as const, "instance" as const).map((value) => ({
    setting: "cpuAllocation" as const,
    value,
  })),
);
const regionsArb = fc.subarray([...REGION_POOL], { minLength: 1 });

/** An operation with random failures, or with the given ones. */
const withFaults = (action: fc.Arbitrary<Action>, faults: fc.Arbitrary<readonly Fault[]> = faultsArb) =>
  fc.tuple(action, faults, waitArb).map(([a, f, wait]): Op => ({ ...a, faults: f, wait }));

/** A third of starts ask for a baseline, mostly at a percent it can run beside. */
const baselineArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);
const startAction: fc.Arbitrary<Action> = fc
  .tuple(imageArb, fc.option(anyPercent, { nil: undefined }), baselineArb, fc.integer({ min: 0, max: 49 }))
  .map(([image, percent, baseline, low]): Action => {
    if (!baseline)
      return percent === undefined ? { kind: "start", image } : { kind: "start", image, percent };
    // Mostly a percent a baseline can run beside; a quarter of the higher ones are kept, and refused.
    const keep = percent === undefined ? false : percent <= 49 || low % 4 === 0;
    return { kind: "start", image, percent: keep ? percent! : low, baseline };
  });
const dropArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);
const setAction = (evidence: fc.Arbitrary<boolean> = fc.boolean()): fc.Arbitrary<Action> =>
  fc
    .record({ kind: fc.constant("set" as const), percent: anyPercent, evidence, drop: dropArb })
    .map(({ drop, ...set }): Action => (drop ? { ...set, drop } : set));
const promoteAction = fc.constant<Action>({ kind: "promote" });
const rollbackAction = fc.constant<Action>({ kind: "rollback" });
const settingsAction = settingsChangeArb.map((change): Action => ({ kind: "settings", change }));
const minInstancesAction = fc
  .integer({ min: 0, max: 3 })
  .map((value): Action => ({ kind: "settings", change: { setting: "minInstances", value } }));
const regionsAction = regionsArb.map((regions): Action => ({ kind: "regions", regions }));
const upAction = fc.boolean().map((refresh): Action => ({ kind: "up", refresh }));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: withFaults(startAction) },
  {
    weight: 4,
    arbitrary: withFaults(
      setAction(
        fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      ),
    ),
  },
  { weight: 2, arbitrary: withFaults(promoteAction) },
  { weight: 2, arbitrary: withFaults(rollbackAction) },
  { weight: 2, arbitrary: withFaults(settingsAction) },
  { weight: 1, arbitrary: withFaults(regionsAction) },
  { weight: 1, arbitrary: withFaults(upAction) },
);
const opsArb = fc.array(opArb, { maxLength: MAX_OPS, size: "max" });
/** Random operations around a scenario, so that every property sees its case in every run. */
const around = (scenario: fc.Arbitrary<Op[]>): fc.Arbitrary<Op[]> =>
  fc.tuple(opsArb, scenario, opsArb).map(([before, middle, after]) => [...before, ...middle, ...after]);
const sequence = (...ops: fc.Arbitrary<Op>[]) => fc.tuple(...ops).map((list) => [...list]);

const failingStart = withFaults(startAction, fc.oneof(allFail, someFail));
const setWithEvidence = withFaults(setAction(fc.constant(true)));
/** A start and a move to serving with no failure injected. */
const cliStart = withFaults(startAction, fc.constant(NO_FAULTS));
const cliSet = withFaults(setAction(fc.constant(true)), fc.constant(NO_FAULTS));
/** A canary that fails somewhere, tried, rolled back, then the same image started again. */
const retriedRelease = fc
  .tuple(imageArb, fc.oneof(allFail, someFail), faultsArb, waitArb, waitArb, validPercent)
  .map(([image, first, second, wait1, wait2, percent]): Op[] => [
    { kind: "start", image, faults: first, wait: wait1 },
    { kind: "set", percent, evidence: true, faults: NO_FAULTS, wait: 60 },
    { kind: "rollback", faults: NO_FAULTS, wait: 60 },
    { kind: "start", image, faults: second, wait: wait2 },
    { kind: "set", percent, evidence: true, faults: NO_FAULTS, wait: 60 },
  ]);
/** A canary rolled back and started again within the same second: the same attempt id. */
const sameSecondRetry = fc.tuple(imageArb, faultsArb).map(([image, faults]): Op[] => [
  { kind: "start", image, faults, wait: 1 },
  { kind: "rollback", faults: NO_FAULTS, wait: 0 },
  { kind: "start", image, faults: NO_FAULTS, wait: 0 },
]);
/** A start with a baseline (failures anywhere), then `canary set` twice: the baseline, then the canary. */
const baselineRelease = sequence(
  withFaults(
    fc.tuple(imageArb, fc.integer({ min: 0, max: 49 })).map(([image, percent]): Action => ({
      kind: "start",
      image,
      percent,
      baseline: true,
    })),
  ),
  setWithEvidence,
  setWithEvidence,
);
/** A failure, then the most common reaction: `pulumi up` again, with or without `--refresh`. */
const transientThenRetry = sequence(
  withFaults(startAction, someTransient),
  setWithEvidence,
  withFaults(upAction),
  setWithEvidence,
);

const LONGEST_NAME = "orchestra-model-gateway-public-api-eu-w1"; // 40 characters, the schema's limit
const initialArb: fc.Arbitrary<Initial> = fc.record(
  {
    name: fc.oneof(
      { weight: 3, arbitrary: fc.constant("api") },
      { weight: 1, arbitrary: fc.constant(LONGEST_NAME) },
      { weight: 2, arbitrary: fc.stringMatching(SERVICE_NAME) },
    ),
    stableImage: poolImage,
    regions: regionsArb,
    memory: memoryArb,
    env: fc.dictionary(envNameArb, envValueArb, { maxKeys: 2 }),
    scaling: fc.record(
      {
        minInstances: fc.integer({ min: 0, max: 3 }),
        maxInstances: fc.integer({ min: 3, max: 100 }),
        concurrency: fc.integer({ min: 1, max: 1000 }),
      },
      { requiredKeys: [] },
    ),
    healthCheckPath: fc.constant("/healthz"),
  },
  { requiredKeys: ["name", "stableImage", "regions"] },
);

function applySettingsChange(file: StackFile, name: string, change: SettingsChange): StackFile {
  const copy = structuredClone(file) as StackFile;
  const service = rawService(copy, name);
  switch (change.setting) {
    case "memory":
    case "cpuAllocation":
      service[change.setting] = change.value;
      break;
    case "env":
      service.env = { ...service.env, [change.name]: change.value };
      break;
    case "maxInstances":
    case "concurrency":
    case "minInstances":
      service.scaling = { ...service.scaling, [change.setting]: change.value };
      break;
  }
  return copy;
}

// ---------------------------------------------------------------------------------------------------
// The world: the stack file, Pulumi's recorded state and Cloud Run, per region.

interface Deployed {
  readonly file: StackFile;
  readonly config: StackConfig;
  readonly service: ServiceConfig;
  /** What the Pulumi program sends to every region. */
  readonly desired: DesiredService;
  /** `desired` as canonical JSON, to compare with Pulumi's recorded state. */
  readonly desiredJson: string;
  /** The program's release plan (desiredState), and the one the CLI computes (servicePlan): must agree. */
  readonly plan: ReleasePlan;
  readonly cliPlan?: ReleasePlan;
}

type RegionUp =
  /** Pulumi saw no difference from its recorded state: Cloud Run was not called. */
  | { readonly kind: "unchanged" }
  /** The call failed before reaching Cloud Run; Pulumi recorded the requested state anyway. */
  | { readonly kind: "transient" }
  | {
      readonly kind: "applied";
      readonly result: ApplyResult;
      readonly outcome: RevisionOutcome;
      /** The region's revisions before the call. */
      readonly existed: ReadonlySet<string>;
    };

interface World {
  current: Deployed;
  clock: number;
  /** Cloud Run, per region the service runs in. */
  readonly regions: Map<string, CloudRunService>;
  /** What Pulumi's state records for the service in each region, as canonical JSON. */
  readonly pulumi: Map<string, string>;
  /** Every revision name ever sent to Cloud Run, in any region. */
  readonly sent: Set<string>;
  /** `region/revision` of every revision made to fail by an injected failure. */
  readonly failedByInjection: Set<string>;
  /**
   * `region/revision` of every revision whose request never arrived in a region (a transient failure):
   * a later state may name it as the revision stable runs, which Cloud Run has never seen there.
   */
  readonly lost: Set<string>;
}

interface Step {
  readonly op: Op | { readonly kind: "first-deploy" };
  readonly before?: Deployed;
  /** The state the step left the stack file in (the same as `before` when nothing was written). */
  readonly after: Deployed;
  /** The lifecycle's refusal; the file was not written. */
  readonly refused?: CanaryRuleError;
  /** For a refused operation: whether the config handed to the lifecycle is as it was. */
  readonly untouched?: boolean;
  /** Validation issues of the file the operation wrote: `pulumi up` stops; the edit is undone. */
  readonly invalid?: readonly ConfigIssue[];
  /** A region added while a canary is staged or serving: not done, as docs/canary-and-rollout.md says. */
  readonly skipped?: boolean;
  /** The readiness `orchestra canary set` read from Cloud Run, passed to the lifecycle as it was read. */
  readonly readiness?: RevisionReadiness;
  /** What `pulumi up` did in each region, when it ran. */
  readonly up?: ReadonlyMap<string, RegionUp>;
  /** Every region as the Admin API reports it after the step. */
  readonly live: ReadonlyMap<string, LiveRegionState>;
}

/**
 * Validation by flattened file: runs revisit the same states often (every first deploy, every undone
 * edit), and validation is most of a step's cost. Results are only read.
 */
const validations = new Map<string, ReturnType<typeof validate>>();
function validated(file: StackFile): ReturnType<typeof validate> {
  const key = JSON.stringify(file.config);
  let result = validations.get(key);
  if (!result) {
    result = validate(STACK, flatten(file));
    validations.set(key, result);
  }
  return result;
}

function deployable(file: StackFile, name: string): Deployed | readonly ConfigIssue[] {
  const result = validated(file);
  if (!result.ok) return result.issues;
  const config = result.config;
  const service = config.services.find((s) => s.name === name);
  assert.ok(service?.stable.image, `service ${name} has no stable image after validation`);
  const email = serviceAccountEmail(runtimeAccountId(service.name), config.project);
  const d = desiredState(service, service.stable.image, email);
  const desired: DesiredService = {
    service: service.name,
    templateRevision: d.plan.templateRevision,
    template: d.template,
    traffic: d.plan.traffic,
    minInstances: serviceScaling(service).minInstanceCount,
  };
  return {
    file,
    config,
    service,
    desired,
    desiredJson: canonicalJson(desired),
    plan: d.plan,
    cliPlan: servicePlan(config, service).plan,
  };
}

const absent = (region: string, service: string): LiveRegionRead => ({
  region,
  ok: true,
  state: { region, service, exists: false },
});

/** Every region of the service, read as the CLI reads them from the Admin API. */
function readRegions(world: World): LiveRegionRead[] {
  const svc = world.current.service;
  return svc.regions.map((r) => world.regions.get(r)?.read() ?? absent(r, svc.name));
}

/** `pulumi up` of the current stack file, with `faults` injected per region. */
function pulumiUp(world: World, faults: readonly Fault[], refresh: boolean): Map<string, RegionUp> {
  const { service, desired, desiredJson, plan } = world.current;
  for (const region of [...world.regions.keys()]) {
    if (service.regions.includes(region)) continue;
    world.regions.delete(region);
    world.pulumi.delete(region);
  }
  const ups = new Map<string, RegionUp>();
  for (const region of service.regions) {
    const fault = faultAt(faults, region);
    let model = world.regions.get(region);
    if (refresh && model?.spec) world.pulumi.set(region, canonicalJson(model.spec));
    if (world.pulumi.get(region) === desiredJson) {
      ups.set(region, { kind: "unchanged" });
      continue;
    }
    if (fault === "transient") {
      // A failed create leaves nothing in the state; a failed update records what was asked.
      if (model) world.pulumi.set(region, desiredJson);
      if (!model?.revisions.has(desired.templateRevision))
        world.lost.add(`${region}/${desired.templateRevision}`);
      ups.set(region, { kind: "transient" });
      continue;
    }
    model ??= new CloudRunService(service.name, region);
    const outcome: RevisionOutcome =
      fault === "canary-fails" && plan.templateRelease !== "stable" ? "fails" : "ready";
    const existed = new Set(model.revisions.keys());
    const result = model.apply(desired, outcome);
    if (outcome === "fails" && !existed.has(desired.templateRevision))
      world.failedByInjection.add(`${region}/${desired.templateRevision}`);
    // A refused create leaves neither a service nor anything in Pulumi's state.
    if (model.state().exists) {
      world.regions.set(region, model);
      world.pulumi.set(region, desiredJson);
    }
    world.sent.add(desired.templateRevision);
    ups.set(region, { kind: "applied", result, outcome, existed });
  }
  return ups;
}

function snapshot(world: World): Pick<Step, "live"> {
  return {
    live: new Map([...world.regions].map(([r, s]) => [r, s.state()])),
  };
}

/**
 * The readiness `orchestra canary set` reads from Cloud Run: only for a staged canary (or its staged
 * baseline), and here only when the operation says so (without it, the lifecycle gets no evidence).
 */
function readinessFor(op: Op, world: World): RevisionReadiness | undefined {
  const awaited = awaitedRevision(world.current.service);
  if (op.kind !== "set" || !op.evidence || awaited === undefined) return undefined;
  return revisionReadiness(awaited, readRegions(world));
}

function decide(config: StackConfig, name: string, op: Op, world: World, ready?: RevisionReadiness): Edit[] {
  switch (op.kind) {
    case "start":
      return startCanary(config, name, op.image, {
        ...(op.percent === undefined ? {} : { percent: op.percent }),
        attempt: attemptId(world.clock),
        ...(op.baseline ? { baseline: true } : {}),
      });
    case "set":
      return setCanaryPercent(config, name, op.percent, ready, op.drop ? { dropBaseline: true } : {});
    case "promote":
      return promoteCanary(config, name);
    case "rollback":
      return rollbackCanary(config, name);
    default:
      throw new Error(`${op.kind} is not a lifecycle operation`);
  }
}

/** Runs one operation and the `pulumi up` that follows it. */
function runOp(world: World, op: Op): Step {
  world.clock += op.wait * 1000;
  const before = world.current;
  const name = before.service.name;
  const done = (rest: Omit<Step, "op" | "before" | "live">): Step => ({
    op,
    before,
    ...rest,
    ...snapshot(world),
  });
  const deploy = (file: StackFile, extra: Partial<Step> = {}): Step => {
    const next = deployable(file, name);
    if (!("file" in next)) return done({ ...extra, after: before, invalid: next });
    world.current = next;
    return done({ ...extra, after: next, up: pulumiUp(world, op.faults, false) });
  };

  switch (op.kind) {
    case "up":
      return done({ after: before, up: pulumiUp(world, op.faults, op.refresh) });
    case "regions": {
      const phase = before.service.canary?.phase;
      const adds = op.regions.some((r) => !before.service.regions.includes(r));
      if (adds && (phase === "staged" || phase === "serving")) return done({ after: before, skipped: true });
      const file = structuredClone(before.file) as StackFile;
      rawService(file, name).regions = [...op.regions];
      return deploy(file);
    }
    case "settings":
      return deploy(applySettingsChange(before.file, name, op.change));
    default: {
      const frozen = canonicalJson(before.config);
      const readiness = readinessFor(op, world);
      const extra = readiness ? { readiness } : {};
      let edits: Edit[];
      try {
        edits = decide(before.config, name, op, world, readiness);
      } catch (e) {
        if (!(e instanceof CanaryRuleError)) throw e;
        const untouched = canonicalJson(before.config) === frozen;
        return done({ ...extra, after: before, refused: e, untouched });
      }
      if (edits.length === 0) return done({ ...extra, after: before });
      return deploy(applyToObject(before.file, edits), extra);
    }
  }
}

function newWorld(init: Initial): { world: World; first: Step } {
  const first = deployable(firstDeployFile(init), init.name);
  assert.ok("file" in first, `the first deploy's config does not validate: ${JSON.stringify(first)}`);
  const world: World = {
    current: first,
    clock: T0,
    regions: new Map(),
    pulumi: new Map(),
    sent: new Set(),
    failedByInjection: new Set(),
    lost: new Set(),
  };
  const up = pulumiUp(world, NO_FAULTS, false);
  return { world, first: { op: { kind: "first-deploy" }, after: first, up, ...snapshot(world) } };
}

/** Runs a sequence; `observe` sees each step with the world as the step left it. */
function simulate(init: Initial, ops: readonly Op[], observe?: (step: Step, world: World) => void) {
  const { world, first } = newWorld(init);
  const steps: Step[] = [first];
  observe?.(first, world);
  for (const op of ops) {
    const step = runOp(world, op);
    steps.push(step);
    observe?.(step, world);
  }
  return { steps, world };
}

// ---------------------------------------------------------------------------------------------------
// Helpers for the properties.

const show = (op: Step["op"]) => JSON.stringify(op, (_k, v: unknown) => (Number.isNaN(v) ? "NaN" : v));
const isValidPercent = (p: number) => Number.isInteger(p) && p >= 0 && p <= 100;
const inFlight = (d: Deployed) =>
  d.service.canary?.phase === "staged" || d.service.canary?.phase === "serving";

/** The results of the calls that reached Cloud Run in a step, by region. */
function applied(step: Step) {
  return [...(step.up ?? [])].flatMap(([region, up]) => (up.kind === "applied" ? [{ region, ...up }] : []));
}

/** Whether anything went wrong in the step's `pulumi up`, in any region. */
const failedSomewhere = (step: Step) =>
  [...(step.up?.values() ?? [])].some(
    (u) => u.kind === "transient" || (u.kind === "applied" && !u.result.ok),
  );

/** Whether Cloud Run refused an update for naming a revision lost in `region` to a transient failure. */
function lostRevisionNamed(world: World, region: string, reason: string): boolean {
  const missing = /^rule 3: Revision (\S+) does not exist/.exec(reason)?.[1];
  return missing !== undefined && world.lost.has(`${region}/${missing}`);
}

/** Whether a region is healthy and both its spec and its status are the state the file renders. */
function runsFile(model: CloudRunService, desired: DesiredService): boolean {
  return (
    liveHealth(model.state()) === "healthy" &&
    canonicalJson(model.spec) === canonicalJson(desired) &&
    canonicalJson(model.serving) === canonicalJson(desired.traffic)
  );
}

/** Asserts that users in every region are served, at 100%, only by revisions that are ready. */
function assertServedByReady(step: Step): void {
  for (const [region, state] of step.live) {
    assert.ok(state.exists, `${region}: a region in the world has no service`);
    const sum = state.trafficStatuses.reduce((total, t) => total + t.percent, 0);
    assert.equal(sum, 100, `${region} serves ${sum}% after ${show(step.op)}`);
    for (const t of state.trafficStatuses) {
      const revision = state.revisions.find((r) => r.name === t.revision);
      assert.ok(
        revision?.ready === true,
        `${region} serves ${t.revision}, which is not ready, after ${show(step.op)}`,
      );
    }
  }
}

/** Counts the checks a property made, so that a generator that never reaches a case fails loudly. */
function coverage() {
  const counts = new Map<string, number>();
  return {
    hit: (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1),
    expect: (property: string, ...what: string[]) => {
      report(property, counts);
      for (const w of what) assert.ok((counts.get(w) ?? 0) > 0, `no generated sequence reached: ${w}`);
    },
  };
}

/**
 * PROPERTY_RUNS=500 runs every property longer. The runs are seeded (support/properties.ts), so that the
 * coverage each property demands (every case reached at least once) holds on every run, not on most;
 * PROPERTY_SEED=N explores other sequences. Every assertion in this file carries a message: without one, a failing `assert.ok`
 * here had Node re-read the source to describe it, which took minutes.
 */
const check = <T extends unknown[]>(property: fc.IProperty<T>) =>
  fc.assert(property, { numRuns: Number(process.env.PROPERTY_RUNS ?? NUM_RUNS) });

/** With PROPERTY_COVERAGE=1, prints how often each case was reached. */
function report(property: string, counts: ReadonlyMap<string, number>): void {
  if (process.env.PROPERTY_COVERAGE === "1")
    process.stdout.write(`      coverage ${property}: ${JSON.stringify(Object.fromEntries(counts))}\n`);
}

/** A copy of the world whose changes do not touch the original. */
function cloneWorld(world: World): World {
  return {
    current: world.current,
    clock: world.clock,
    regions: new Map([...world.regions].map(([r, m]) => [r, m.clone()])),
    pulumi: new Map(world.pulumi),
    sent: new Set(world.sent),
    failedByInjection: new Set(world.failedByInjection),
    lost: new Set(world.lost),
  };
}

/** Asserts that a CLI operation with no injected failure was accepted, valid and applied everywhere. */
function assertCliStep(step: Step): void {
  assert.equal(step.refused, undefined, `${show(step.op)} was refused: ${step.refused?.message}`);
  assert.equal(step.invalid, undefined, `${show(step.op)}: ${JSON.stringify(step.invalid)}`);
  for (const { region, result } of applied(step))
    assert.ok(result.ok, `${region} did not take ${show(step.op)}: ${result.ok ? "" : result.reason}`);
}

/** A CLI operation with no injected failure. */
const cli = (action: Action, wait = 60): Op => ({ ...action, faults: NO_FAULTS, wait });

/** The template's keys at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

// ---------------------------------------------------------------------------------------------------

describe("canary lifecycle (property-based, against a model of Cloud Run with failures)", () => {
  it("1. after every step, in every region, users are served at 100% by ready revisions; only injected failures fail", () => {
    const seen = coverage();
    const sequences = fc.oneof(
      opsArb,
      around(sequence(failingStart, setWithEvidence, withFaults(settingsAction))),
      around(sequence(withFaults(startAction, allFail), withFaults(minInstancesAction))),
      around(transientThenRetry),
      around(sequence(withFaults(startAction), setWithEvidence, withFaults(promoteAction))),
      around(baselineRelease),
    );
    check(
      fc.property(initialArb, sequences, (init, ops) => {
        const asked = new Set<string>();
        simulate(init, ops, (step, world) => {
          if (step.op.kind !== "settings") {
            assert.equal(
              step.invalid,
              undefined,
              `the file after ${show(step.op)} does not validate: ${JSON.stringify(step.invalid)}`,
            );
          }
          if (step.refused)
            assert.ok(step.untouched, `${show(step.op)} changed the config while refusing it`);
          const { after } = step;
          assert.deepEqual(
            after.cliPlan,
            after.plan,
            "the CLI's servicePlan and the program's desiredState disagree",
          );
          asked.add(canonicalJson(after.desired.traffic));
          for (const { region, result, existed } of applied(step)) {
            if (result.ok) continue;
            if (!result.recorded) {
              // Refused, changing nothing: only when a transient failure earlier left the program
              // believing a revision exists in this region.
              assert.ok(
                lostRevisionNamed(world, region, result.reason),
                `${region} refused ${show(step.op)}: ${result.reason}`,
              );
              seen.hit("refused: names a revision lost to a transient failure");
              continue;
            }
            // The only failure: the template names the canary (or baseline) revision, made to fail there.
            const release = after.plan.templateRelease;
            const revision = after.plan.templateRevision;
            assert.ok(release === "canary" || release === "baseline", `a ${release} template failed`);
            assert.equal(
              result.reason,
              `rule 7: Revision '${revision}' is not ready and cannot serve traffic.`,
            );
            assert.ok(
              world.failedByInjection.has(`${region}/${revision}`),
              `${region} failed ${show(step.op)} without an injected failure: ${result.reason}`,
            );
            seen.hit(
              existed.has(revision)
                ? `the template still names a failed ${release}`
                : `a ${release} revision failed to start`,
            );
          }
          assertServedByReady(step);
          for (const [region, state] of step.live) {
            assert.ok(state.exists, `${region}: no service`);
            // Users only ever get a split the program asked for, never a mix of two.
            assert.ok(
              asked.has(
                canonicalJson(
                  state.trafficStatuses.map(({ revision, percent, tag }) => ({ revision, percent, tag })),
                ),
              ),
              `${region} serves a split never asked for`,
            );
            if (liveHealth(state) === "failed") seen.hit("users kept the last serving split after a failure");
          }
          if ([...(step.up?.values() ?? [])].some((u) => u.kind === "transient"))
            seen.hit("an update never reached a region");
          const splits = new Set(
            [...step.live.values()].map((s) => (s.exists ? canonicalJson(s.trafficStatuses) : "")),
          );
          if (splits.size > 1) seen.hit("regions serve different splits");
          const beforeCanary = step.before?.service.canary;
          const tooHighBeside = /has a baseline, and canary and baseline at \d+% each/.test(
            step.refused?.message ?? "",
          );
          if (tooHighBeside) seen.hit("set refused: too high beside a baseline");
          if (
            step.op.kind === "set" &&
            isValidPercent(step.op.percent) &&
            beforeCanary?.phase === "staged" &&
            !tooHighBeside &&
            !(step.op.drop && beforeCanary.baseline?.phase === "staged")
          ) {
            if (!step.readiness) {
              assert.ok(step.refused, "a staged canary took traffic without readiness evidence");
              seen.hit("set refused: no evidence");
            } else if (step.readiness.problems.length > 0) {
              assert.ok(
                step.refused,
                `a staged canary took traffic though ${step.readiness.problems.join("; ")}`,
              );
              assert.match(step.refused.message, /not known to be ready in/);
              seen.hit("set refused: not ready everywhere");
            } else if (!step.refused) {
              assert.deepEqual([...step.readiness.readyIn].sort(), [...world.current.service.regions].sort());
              seen.hit(
                beforeCanary.baseline?.phase === "staged" && !step.op.drop
                  ? "set: baseline ready on evidence, the canary created next"
                  : "set: staged to serving on evidence",
              );
            }
          }
        });
      }),
    );
    seen.expect(
      "1",
      "a canary revision failed to start",
      "the template still names a failed canary",
      "users kept the last serving split after a failure",
      "an update never reached a region",
      "regions serve different splits",
      "set refused: no evidence",
      "set refused: not ready everywhere",
      "set: staged to serving on evidence",
      "a baseline revision failed to start",
      "set: baseline ready on evidence, the canary created next",
      "set refused: too high beside a baseline",
    );
  });

  it("2. after any failure, rollbackCanary renders from the stack file alone a state every region accepts, whether or not the canary ever became ready", () => {
    const seen = coverage();
    const sequences = fc.oneof(
      opsArb,
      around(sequence(failingStart, setWithEvidence)),
      around(transientThenRetry),
      around(sequence(cliStart, cliSet, withFaults(setAction(fc.constant(true)), someTransient))),
    );
    check(
      fc.property(initialArb, sequences, (init, ops) => {
        simulate(init, ops, (step, world) => {
          const notReady = step.refused !== undefined && (step.readiness?.problems.length ?? 0) > 0;
          if (!(failedSomewhere(step) || notReady) || !inFlight(world.current)) return;
          // Offline: the stack file is all the rollback reads; Cloud Run is only asked to apply it.
          const parsed = validate(STACK, flatten(world.current.file));
          assert.ok(parsed.ok, "the stack file does not validate");
          const name = world.current.service.name;
          const rolled = deployable(
            applyToObject(world.current.file, rollbackCanary(parsed.config, name)),
            name,
          );
          assert.ok("file" in rolled, `the rolled-back file does not validate: ${JSON.stringify(rolled)}`);
          const pin = world.current.service.stable.revision;
          const canary = world.current.service.canary;
          assert.ok(pin && canary, "a canary in flight without a stable pin");
          assert.equal(
            rolled.desired.templateRevision,
            pin,
            "the template is not reverted to the pinned stable revision",
          );
          assert.deepEqual(rolled.desired.traffic, [{ revision: pin, percent: 100, tag: "stable" }]);
          for (const region of rolled.service.regions) {
            const live = world.regions.get(region);
            const model = live?.clone() ?? new CloudRunService(name, region);
            const stableSpec = model.revisions.get(pin);
            const result = model.apply(rolled.desired);
            assert.ok(result.ok, `${region} does not accept the rollback: ${result.ok ? "" : result.reason}`);
            const state = model.state();
            assert.ok(state.exists, `${region}: no service`);
            assert.equal(liveHealth(state), "healthy", `${region} is not healthy after the rollback`);
            assert.deepEqual(model.serving, rolled.desired.traffic);
            if (stableSpec === undefined) {
              seen.hit("the stable revision, lost to a transient failure, is created by the rollback");
            } else {
              assert.equal(result.created, false, `${region}: the rollback created a revision`);
              assert.equal(stableSpec, canonicalJson(rolled.desired.template), "not the exact stable spec");
            }
            const canaryThere = live?.revisions.has(canary.revision)
              ? live.isReady(canary.revision)
                ? "ready"
                : "failed"
              : "never created";
            seen.hit(`canary ${canaryThere} in a region`);
          }
          seen.hit(`rollback from ${canary.phase}`);
          if (canary.baseline?.phase === "staged") seen.hit("rollback while the baseline is created");
        });
      }),
    );
    seen.expect(
      "2",
      "canary failed in a region",
      "canary never created in a region",
      "canary ready in a region",
      "rollback from staged",
      "rollback from serving",
      "rollback while the baseline is created",
    );
  });

  it("3. no failure needs a hand edit: rollback and `pulumi up --refresh` bring every region back to healthy, and the release then goes on", () => {
    const seen = coverage();
    const sequences = fc.oneof(
      opsArb,
      around(sequence(failingStart, setWithEvidence)),
      around(transientThenRetry),
      {
        weight: 3,
        arbitrary: around(
          sequence(withFaults(startAction, allFail), withFaults(rollbackAction, someTransient)),
        ),
      },
    );
    check(
      fc.property(initialArb, sequences, fc.nat(), (init, ops, seed) => {
        const { world, steps } = simulate(init, ops);
        const troubled = steps.some(failedSomewhere);
        const recovery = [
          ...(inFlight(world.current) ? [cli({ kind: "rollback" })] : []),
          cli({ kind: "up", refresh: true }),
        ];

        // What the same recovery without `--refresh` would leave behind.
        const plain = cloneWorld(world);
        for (const op of recovery) runOp(plain, op.kind === "up" ? { ...op, refresh: false } : op);
        const leftBehind = [...plain.regions.values()].some((m) => !runsFile(m, plain.current.desired));
        if (leftBehind) seen.hit("a plain `pulumi up` would leave a region not running the file");

        const healthy = (why: string) => {
          assert.deepEqual([...world.regions.keys()].sort(), [...world.current.service.regions].sort(), why);
          for (const [region, model] of world.regions) {
            const state = model.state();
            assert.ok(state.exists, `${region}: no service`);
            assert.equal(
              liveHealth(state),
              "healthy",
              `${region} ${why}: ${JSON.stringify(state.terminalCondition)}`,
            );
            assert.ok(runsFile(model, world.current.desired), `${region} ${why}: it does not run the file`);
          }
        };
        for (const op of recovery) assertCliStep(runOp(world, op));
        healthy("is not healthy after the recovery");
        const { plan } = world.current;
        assert.equal(plan.templateRelease, "stable");
        assert.deepEqual(plan.traffic, [{ revision: plan.templateRevision, percent: 100, tag: "stable" }]);
        if (troubled) seen.hit("recovered after a failure");
        if (steps.some((s) => applied(s).some((a) => !a.result.ok && a.result.recorded)))
          seen.hit("recovered after a canary failed to start");

        // ...and the release goes on, with CLI operations only.
        const last = world.current.service.canary;
        const image = last?.phase === "rolled-back" ? last.image : `${REPO}@${digest(`next-${seed}`)}`;
        const baseline =
          seed % 2 === 0 && world.current.service.name.length <= MAX_SERVICE_NAME_WITH_BASELINE;
        for (const action of [
          { kind: "start", image, baseline },
          ...(baseline ? [{ kind: "set", percent: 10, evidence: true } as const] : []),
          { kind: "set", percent: 10, evidence: true },
          { kind: "promote" },
        ] as const) {
          assertCliStep(runOp(world, cli(action)));
        }
        if (baseline) seen.hit("the next release ran with a baseline");
        healthy("is not healthy after the next release");
        assert.equal(world.current.service.stable.image, image);
        assert.equal(world.current.service.canary, undefined);
        if (last?.phase === "rolled-back") seen.hit("the rolled-back release was started again and promoted");
      }),
    );
    seen.expect(
      "3",
      "recovered after a failure",
      "recovered after a canary failed to start",
      "a plain `pulumi up` would leave a region not running the file",
      "the rolled-back release was started again and promoted",
      "the next release ran with a baseline",
    );
  });

  it("4. a retried release (the same image after a rollback) gets a revision name never used, which Cloud Run creates afresh", () => {
    const seen = coverage();
    check(
      fc.property(
        initialArb,
        fc.oneof(opsArb, around(retriedRelease), around(sameSecondRetry)),
        (init, ops) => {
          let sentBefore = new Set<string>();
          simulate(init, ops, (step, world) => {
            const before = step.before;
            const op = step.op;
            if (
              op.kind === "start" &&
              before?.service.canary?.phase === "rolled-back" &&
              op.image === before.service.canary.image &&
              isValidPercent(op.percent ?? 10)
            ) {
              const previous = before.service.canary.revision;
              if (step.refused) {
                // Started again within the same second: the attempt id is the same.
                assert.match(step.refused.message, /already used by the rolled-back canary/);
                assert.ok(
                  previous.endsWith(`-${attemptId(world.clock)}`),
                  "refused though the attempt id differs",
                );
                seen.hit("retried within the same second: refused, start again");
              } else {
                const started = step.after.service.canary;
                assert.ok(started, "no canary after start");
                assert.notEqual(started.revision, previous);
                for (const name of [started.revision, started.baseline?.revision ?? started.revision])
                  assert.ok(!sentBefore.has(name), `${name} was sent to Cloud Run before`);
                // The revision this start's `up` creates: the canary's, or first the baseline's.
                const revision = step.after.desired.templateRevision;
                for (const { region, result, existed, outcome } of applied(step)) {
                  assert.ok(!existed.has(revision), `${region} already had ${revision}`);
                  if (!result.ok && !result.recorded) {
                    // Refused for a stable revision lost there to a transient failure (property 1).
                    assert.ok(lostRevisionNamed(world, region, result.reason), result.reason);
                    continue;
                  }
                  assert.ok(
                    world.regions.get(region)?.revisions.has(revision),
                    `${region} did not create ${revision}`,
                  );
                  assert.equal("created" in result && result.created, true);
                  assert.equal(world.regions.get(region)?.isReady(revision), outcome === "ready");
                  const before = world.regions.get(region);
                  if (outcome === "ready" && before?.revisions.has(previous) && !before.isReady(previous))
                    seen.hit("the retry became ready where the first attempt failed");
                }
                seen.hit("retried");
              }
            }
            sentBefore = new Set(world.sent);
          });
        },
      ),
    );
    seen.expect(
      "4",
      "retried",
      "the retry became ready where the first attempt failed",
      "retried within the same second: refused, start again",
    );
  });

  it("5. rollback brings back the exact stable revision (name and spec); settings edited mid-canary are refused, naming the setting path and how to proceed", () => {
    const seen = coverage();
    const editMidCanary = sequence(
      withFaults(startAction),
      withFaults(settingsAction),
      setWithEvidence,
      withFaults(settingsAction),
      withFaults(rollbackAction),
    );
    check(
      fc.property(initialArb, fc.oneof(opsArb, around(editMidCanary)), (init, ops) => {
        let refusedSinceStart = false;
        simulate(init, ops, (step, world) => {
          const before = step.before;
          if (!before) return;
          const op = step.op;
          if (op.kind === "start" && !step.refused) {
            refusedSinceStart = false;
            // The pin is the revision stable was serving from when the canary started.
            const serving = before.plan.traffic.find((t) => t.tag === "stable")?.revision;
            assert.equal(step.after.service.stable.revision, serving);
            seen.hit("start pins the serving stable revision");
          }
          if (op.kind === "settings" && inFlight(before)) {
            if (step.invalid) {
              const name = before.service.name;
              const pins = step.invalid.filter((i) =>
                [
                  `${SERVICES}.${name}.stable.revision`,
                  `${SERVICES}.${name}.canary.revision`,
                  `${SERVICES}.${name}.canary.baseline.revision`,
                ].includes(i.path),
              );
              if (pins.length < step.invalid.length) {
                // Invalid on its own (min instances above max, say): refused whatever the canary.
                seen.hit("settings edit invalid on its own");
                return;
              }
              for (const issue of pins) {
                assert.match(issue.message, /a setting changed while the canary runs/);
                assert.match(issue.message, /Fix: undo the settings change/);
                assert.match(issue.message, new RegExp(`orchestra canary promote ${name}`));
                assert.match(issue.message, new RegExp(`orchestra canary rollback ${name}`));
              }
              assert.equal(world.current, before, "a refused edit was deployed");
              refusedSinceStart = true;
              seen.hit("settings edit refused mid-canary");
            } else {
              // Only what is not in the revision template may change: no revision is created.
              assert.equal(step.after.desired.templateRevision, before.desired.templateRevision);
              assert.equal(
                canonicalJson(step.after.desired.template),
                canonicalJson(before.desired.template),
              );
              for (const { region, result } of applied(step)) {
                // Only a revision lost to a transient failure there is created now, as any deploy would.
                const created = "created" in result && result.created;
                const lost = world.lost.has(`${region}/${step.after.desired.templateRevision}`);
                assert.ok(!created || lost, `${region}: ${show(op)} created a revision`);
              }
              if (
                op.change.setting === "minInstances" &&
                op.change.value !== before.service.scaling.minInstances
              )
                seen.hit("min instances changed mid-canary, no revision created");
            }
          }
          if (op.kind === "rollback" && inFlight(before) && !step.refused) {
            const pin = before.service.stable.revision;
            assert.ok(pin, "a canary in flight without a stable pin");
            assert.equal(step.after.desired.templateRevision, pin);
            assert.deepEqual(step.after.desired.traffic, [{ revision: pin, percent: 100, tag: "stable" }]);
            const spec = canonicalJson(step.after.desired.template);
            for (const { region, result, existed } of applied(step)) {
              assert.ok(result.ok, `${region} refused the rollback: ${result.ok ? "" : result.reason}`);
              if (existed.has(pin)) assert.equal(result.created, false);
              assert.equal(
                world.regions.get(region)?.revisions.get(pin),
                spec,
                `${region}: not the exact stable spec`,
              );
              assert.deepEqual(world.regions.get(region)?.serving, step.after.desired.traffic);
            }
            seen.hit("rollback to the exact stable revision");
            if (refusedSinceStart) seen.hit("...after a settings edit was refused");
          }
        });
      }),
    );
    seen.expect(
      "5",
      "start pins the serving stable revision",
      "settings edit refused mid-canary",
      "min instances changed mid-canary, no revision created",
      "rollback to the exact stable revision",
      "...after a settings edit was refused",
    );
  });

  it("5'. following the refusal's advice works: finish the canary, `pulumi up`, then the same settings edit is accepted", () => {
    const seen = coverage();
    const endingServing = fc.oneof(opsArb, {
      weight: 2,
      arbitrary: fc
        .tuple(opsArb, imageArb)
        .map(([ops, image]) => [
          ...ops,
          cli({ kind: "start", image }),
          cli({ kind: "set", percent: 10, evidence: true }),
        ]),
    });
    const templateChange = settingsChangeArb.filter((c) => c.setting !== "minInstances");
    check(
      fc.property(initialArb, endingServing, fc.boolean(), templateChange, (init, ops, promote, change) => {
        const { world } = simulate(init, ops);
        if (!inFlight(world.current)) return;
        const name = world.current.service.name;
        const edited = deployable(applySettingsChange(world.current.file, name, change), name);
        if ("file" in edited) return; // the same value again
        // Only the refusals for the canary: an edit invalid on its own (min above max) stays invalid.
        if (!edited.every((i) => /\.(stable|canary|baseline)\.revision$/.test(i.path))) return;
        seen.hit("refused");
        // "finish the canary first (promote or rollback, then `pulumi up`), and make the change afterwards"
        const canPromote = world.current.service.canary?.phase === "serving" && promote;
        assertCliStep(runOp(world, cli(canPromote ? { kind: "promote" } : { kind: "rollback" })));
        assertCliStep(runOp(world, cli({ kind: "up", refresh: true })));
        const after = deployable(applySettingsChange(world.current.file, name, change), name);
        assert.ok(
          "file" in after,
          `after ${canPromote ? "promote" : "rollback"}, the edit is still refused: ${JSON.stringify(after)}`,
        );
        seen.hit(canPromote ? "accepted after promote" : "accepted after rollback");
      }),
    );
    seen.expect("5'", "refused", "accepted after promote", "accepted after rollback");
  });

  it("6. a staged canary is in no traffic list; promote creates no revision; min instances are not in the revision template", () => {
    const seen = coverage();
    const sequences = fc.oneof(
      opsArb,
      around(sequence(withFaults(startAction), setWithEvidence, withFaults(promoteAction))),
      around(sequence(failingStart, withFaults(settingsAction), setWithEvidence, withFaults(promoteAction))),
      around(
        sequence(
          cliStart.map((op) => ({ ...op, percent: 0 })),
          cliSet.map((op) => ({ ...op, percent: 0 })),
        ),
      ),
    );
    check(
      fc.property(initialArb, sequences, (init, ops) => {
        simulate(init, ops, (step, world) => {
          const { service, desired } = world.current;
          assert.ok(
            !keysOf(desired.template).includes("minInstanceCount"),
            "min instances in the revision template",
          );
          const canary = service.canary;
          const stagedBaseline = canary?.baseline?.phase === "staged" ? canary.baseline.revision : undefined;
          if (stagedBaseline) {
            assert.ok(
              !desired.traffic.some((t) => t.revision === stagedBaseline),
              "a staged baseline is in the traffic list",
            );
            seen.hit("staged baseline");
          }
          if (canary?.phase === "staged") {
            assert.ok(
              !desired.traffic.some((t) => t.revision === canary.revision),
              "a staged canary is in the traffic list",
            );
            for (const [region, state] of step.live) {
              assert.ok(state.exists, `${region}: no service`);
              const named = [...state.traffic, ...state.trafficStatuses].some(
                (t) => t.revision === canary.revision,
              );
              assert.ok(!named, `${region} lists the staged canary ${canary.revision}`);
            }
            seen.hit("staged");
          }
          for (const [region, state] of step.live) {
            if (!state.exists || liveHealth(state) !== "healthy") continue;
            const model = world.regions.get(region);
            // Service-level min instances only: a dark launch (tagged, 0%) adds no warm instance.
            assert.equal(
              model?.warmInstances(),
              model?.spec?.minInstances ?? 0,
              `${region} keeps extra instances warm`,
            );
            const dark = state.trafficStatuses.some((t) => t.tag === "canary" && t.percent === 0);
            if (dark && (model?.spec?.minInstances ?? 0) > 0) seen.hit("dark launch with min instances");
          }
          if (step.op.kind === "promote" && step.before && !step.refused) {
            const promoted = step.before.service.canary;
            assert.ok(promoted, "promoted without a canary");
            assert.equal(desired.templateRevision, promoted.revision);
            assert.deepEqual(desired.traffic, [{ revision: promoted.revision, percent: 100, tag: "stable" }]);
            for (const { region, result, existed } of applied(step)) {
              assert.ok(result.ok, `${region} refused the promotion: ${result.ok ? "" : result.reason}`);
              assert.equal(result.created, false, `${region}: promote created a revision`);
              assert.deepEqual(
                [...(world.regions.get(region)?.revisions.keys() ?? [])].sort(),
                [...existed].sort(),
              );
              seen.hit("promote");
            }
          }
        });
      }),
    );
    seen.expect("6", "staged", "staged baseline", "dark launch with min instances", "promote");
  });

  it("why regions are added between releases: a new region has no stable revision for a staged canary to keep serving", () => {
    const init: Initial = {
      name: "api",
      stableImage: `${REPO}@${digest("pool-0")}`,
      regions: ["europe-west1"],
    };
    const { world } = simulate(init, [cli({ kind: "start", image: `${REPO}@${digest("fresh-1")}` })]);
    const result = new CloudRunService("api", "europe-west4").apply(world.current.desired);
    assert.ok(!result.ok && result.reason.startsWith("rule 3"), JSON.stringify(result));
  });

  describe("what a transient failure leaves behind (the cases behind the `--refresh` in property 3)", () => {
    const init: Initial = {
      name: "api",
      stableImage: `${REPO}@${digest("pool-0")}`,
      regions: ["europe-west1", "europe-west4"],
    };
    const image = `${REPO}@${digest("fresh-1")}`;
    const west4Down: readonly Fault[] = ["none", "transient", "none"];

    it("a staged canary missed by a region: a plain `pulumi up` does not call it again, so `canary set` keeps refusing until `--refresh`", () => {
      const { world } = simulate(init, [{ kind: "start", image, faults: west4Down, wait: 60 }]);
      const revision = world.current.service.canary?.revision;
      const set = cli({ kind: "set", percent: 10, evidence: true });

      const refused = runOp(world, set);
      assert.match(refused.refused?.message ?? "", /not known to be ready in europe-west4/);
      assert.deepEqual(refused.readiness?.readyIn, ["europe-west1"]);
      assert.match(refused.readiness?.problems[0] ?? "", /europe-west4: revision .* does not exist yet/);

      const plain = runOp(world, cli({ kind: "up", refresh: false }));
      assert.deepEqual([...(plain.up?.values() ?? [])], [{ kind: "unchanged" }, { kind: "unchanged" }]);
      assert.ok(runOp(world, set).refused, "set was accepted though europe-west4 never created the canary");

      const refreshed = runOp(world, cli({ kind: "up", refresh: true }));
      assert.equal(refreshed.up?.get("europe-west1")?.kind, "unchanged");
      assert.equal(refreshed.up?.get("europe-west4")?.kind, "applied");
      assert.ok(
        world.regions.get("europe-west4")?.isReady(revision ?? ""),
        "the canary is not ready after --refresh",
      );
      assertCliStep(runOp(world, set));
      assert.equal(world.current.service.canary?.phase, "serving");
    });

    it("a settings change missed by a region: its new stable revision is missing there, so a canary start is refused there (even with `--refresh`) until rolled back", () => {
      const { world, steps } = simulate(init, [
        { kind: "settings", change: { setting: "memory", value: "1Gi" }, faults: west4Down, wait: 60 },
        cli({ kind: "start", image }),
      ]);
      const stable = world.current.service.stable.revision ?? "";
      const start = steps[2].up?.get("europe-west4");
      assert.equal(start?.kind, "applied");
      assert.deepEqual(start.result, {
        ok: false,
        recorded: false,
        reason: `rule 3: Revision ${stable} does not exist or is deleted`,
      });
      assert.deepEqual(
        world.regions.get("europe-west4")?.serving,
        steps[0].after.desired.traffic,
        "users keep the old split",
      );
      const again = runOp(world, cli({ kind: "up", refresh: true })).up?.get("europe-west4");
      assert.ok(
        again?.kind === "applied" && !again.result.ok,
        "--refresh alone cannot create the stable revision",
      );

      for (const op of [cli({ kind: "rollback" }), cli({ kind: "up", refresh: true })])
        assertCliStep(runOp(world, op));
      for (const [region, model] of world.regions)
        assert.ok(
          runsFile(model, world.current.desired),
          `${region} does not run the file after the rollback`,
        );
      assert.ok(
        world.regions.get("europe-west4")?.isReady(stable),
        "the rollback did not create the stable revision",
      );
    });
  });
});
