import { strict as assert } from "node:assert";
import fc from "fast-check";
import { applyToObject, type Edit } from "../model/canary/edits";
import {
  CanaryRuleError,
  DEFAULT_CANARY_PERCENT,
  promoteCanary,
  rollbackCanary,
  setCanaryPercent,
  startCanary,
} from "../model/canary/lifecycle";
import { servicePlan } from "../model/release/servicePlan";
import { desiredState } from "../model/release/desiredState";
import { canonicalJson } from "../model/release/revisionName";
import type { ReleasePlan, TrafficTarget } from "../model/release/traffic";
import { runtimeAccountId, serviceAccountEmail } from "../model/identity";
import { SERVICE_NAME } from "../config/schema";
import type { ServiceConfig, StackConfig } from "../model/types";
import { PROJECT } from "../model/types";
import { CloudRunService, type ApplyResult, type DesiredService } from "./support/cloudRunModel";
import { digest, REPO, validate } from "./support/render";

/**
 * Random sequences of canary operations and config edits, each "deployed" in turn to a model of Cloud
 * Run (like repeated `pulumi up`), checking that every state the product reaches is one Cloud Run
 * accepts and that each operation does what the canary workflow promises.
 */

const STACK = "prod";
const SERVICES = `${PROJECT}:services`;
const NUM_RUNS = 80;
const MAX_OPS = 16;

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
  readonly memory?: string;
  readonly env?: Record<string, string>;
  readonly scaling?: { maxInstances?: number; concurrency?: number };
  readonly healthCheckPath?: string;
  /** The service's own `regions`; absent: the stack's region only. */
  readonly regions?: readonly string[];
}

function firstDeployFile(init: Initial): StackFile {
  const service: RawService = { repository: REPO, stable: { image: init.stableImage } };
  if (init.memory !== undefined) service.memory = init.memory;
  if (init.env !== undefined) service.env = { ...init.env };
  if (init.scaling !== undefined) service.scaling = { ...init.scaling };
  if (init.healthCheckPath !== undefined) service.healthCheckPath = init.healthCheckPath;
  if (init.regions !== undefined) service.regions = [...init.regions];
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
// Operations.

type ConfigChange =
  | { readonly setting: "regions"; readonly value: readonly string[] }
  | { readonly setting: "memory"; readonly value: string }
  | { readonly setting: "env"; readonly name: string; readonly value: string }
  | { readonly setting: "maxInstances"; readonly value: number }
  | { readonly setting: "concurrency"; readonly value: number };

type Op =
  | { readonly kind: "start"; readonly image: string; readonly percent?: number }
  | { readonly kind: "set"; readonly percent: number }
  | { readonly kind: "promote" }
  | { readonly kind: "rollback" }
  | { readonly kind: "config"; readonly change: ConfigChange }
  /** A canary written into the stack file by hand, without the `stable.revision` pin. */
  | { readonly kind: "edit-canary"; readonly image: string; readonly percent: number };

const poolImage = fc.integer({ min: 0, max: 2 }).map((n) => `${REPO}@${digest(`pool-${n}`)}`);
/** Mostly fresh digests; sometimes one from a small pool, to re-release an earlier image or the stable one. */
const imageArb = fc.oneof(
  { weight: 3, arbitrary: fc.nat().map((n) => `${REPO}@${digest(`fresh-${n}`)}`) },
  { weight: 1, arbitrary: poolImage },
);
const validPercent = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom(0, 100));
const invalidPercent = fc.constantFrom(-1, 101, 2.5, 99.5, -100, 1000, Number.NaN);
const anyPercent = fc.oneof({ weight: 5, arbitrary: validPercent }, { weight: 1, arbitrary: invalidPercent });

const memoryArb = fc.constantFrom("512Mi", "1Gi", "2Gi");
const envNameArb = fc.constantFrom("LOG_LEVEL", "FEATURE_FLAGS");
const envValueArb = fc.oneof(fc.constantFrom("info", "debug", "on"), fc.stringMatching(/^[a-z0-9]{0,8}$/));

const configChangeArb: fc.Arbitrary<ConfigChange> = fc.oneof(
  memoryArb.map((value) => ({ setting: "memory" as const, value })),
  fc.record({ setting: fc.constant("env" as const), name: envNameArb, value: envValueArb }),
  fc.integer({ min: 1, max: 100 }).map((value) => ({ setting: "maxInstances" as const, value })),
  fc.integer({ min: 1, max: 1000 }).map((value) => ({ setting: "concurrency" as const, value })),
);

const startArb: fc.Arbitrary<Op> = fc
  .tuple(imageArb, fc.option(anyPercent, { nil: undefined }))
  .map(([image, percent]) =>
    percent === undefined ? { kind: "start", image } : { kind: "start", image, percent },
  );
const setArb: fc.Arbitrary<Op> = anyPercent.map((percent) => ({ kind: "set", percent }));
const configArb: fc.Arbitrary<Op> = configChangeArb.map((change) => ({ kind: "config", change }));

const promoteOp = fc.constant<Op>({ kind: "promote" });
const rollbackOp = fc.constant<Op>({ kind: "rollback" });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: startArb },
  { weight: 3, arbitrary: setArb },
  { weight: 2, arbitrary: promoteOp },
  { weight: 2, arbitrary: rollbackOp },
  { weight: 3, arbitrary: configArb },
);
const opsArb = fc.array(opArb, { maxLength: MAX_OPS, size: "max" });
/** Random operations around a given scenario, so that every property sees its case in every run. */
const around = (...scenario: fc.Arbitrary<Op>[]): fc.Arbitrary<Op[]> =>
  fc
    .tuple(opsArb, fc.tuple(...scenario), opsArb)
    .map(([before, middle, after]) => [...before, ...middle, ...after]);

const LONGEST_NAME = "orchestra-model-gateway-public-api-eu-w1"; // 40 characters, the schema's limit
const initialArb: fc.Arbitrary<Initial> = fc.record(
  {
    name: fc.oneof(
      { weight: 3, arbitrary: fc.constant("api") },
      { weight: 1, arbitrary: fc.constant(LONGEST_NAME) },
      { weight: 2, arbitrary: fc.stringMatching(SERVICE_NAME) },
    ),
    stableImage: poolImage,
    memory: memoryArb,
    env: fc.dictionary(envNameArb, envValueArb, { maxKeys: 2 }),
    scaling: fc.record(
      { maxInstances: fc.integer({ min: 1, max: 100 }), concurrency: fc.integer({ min: 1, max: 1000 }) },
      { requiredKeys: [] },
    ),
    healthCheckPath: fc.constant("/healthz"),
  },
  { requiredKeys: ["name", "stableImage"] },
);

function applyConfigChange(file: StackFile, name: string, change: ConfigChange): StackFile {
  const copy = structuredClone(file) as StackFile;
  const service = rawService(copy, name);
  switch (change.setting) {
    case "regions":
      service.regions = [...change.value];
      break;
    case "memory":
      service.memory = change.value;
      break;
    case "env":
      service.env = { ...service.env, [change.name]: change.value };
      break;
    case "maxInstances":
    case "concurrency":
      service.scaling = { ...service.scaling, [change.setting]: change.value };
      break;
  }
  return copy;
}

function writeCanaryByHand(
  file: StackFile,
  name: string,
  canary: { image: string; percent: number },
): StackFile {
  const copy = structuredClone(file) as StackFile;
  rawService(copy, name).canary = { image: canary.image, percent: canary.percent };
  return copy;
}

/** How often a hand-written canary was refused for its missing pin and the suggested fix was applied. */
let pinFixesFollowed = 0;

/**
 * Does what a user does with a hand-written canary that validation refuses for lacking
 * `stable.revision`: adds the revision the error message names.
 */
function followPinFix(file: StackFile, name: string): StackFile {
  const result = validate(STACK, flatten(file));
  if (result.ok) return file;
  const pinIssue = result.issues.find((i) => i.path === `ai-orchestra:services.${name}.stable.revision`);
  const suggested = pinIssue && /add `revision: ([a-z0-9-]+)`/.exec(pinIssue.message)?.[1];
  if (!suggested) return file;
  pinFixesFollowed++;
  const copy = structuredClone(file) as StackFile;
  const service = rawService(copy, name);
  service.stable = { ...(service.stable as Record<string, unknown>), revision: suggested };
  return copy;
}

function decide(
  config: StackConfig,
  name: string,
  op: Exclude<Op, { kind: "config" | "edit-canary" }>,
): Edit[] {
  switch (op.kind) {
    case "start":
      return op.percent === undefined
        ? startCanary(config, name, op.image)
        : startCanary(config, name, op.image, op.percent);
    case "set":
      return setCanaryPercent(config, name, op.percent);
    case "promote":
      return promoteCanary(config, name);
    case "rollback":
      return rollbackCanary(config, name);
  }
}

// ---------------------------------------------------------------------------------------------------
// Running a sequence: every accepted state is validated and deployed to the Cloud Run model.

interface Deployed {
  readonly file: StackFile;
  readonly config: StackConfig;
  readonly service: ServiceConfig;
  /** What the Pulumi program sends (desiredState). */
  readonly desired: DesiredService;
  /** The program's release plan (desiredState), and the one the CLI computes (servicePlan): must agree. */
  readonly plan: ReleasePlan;
  readonly cliPlan?: ReleasePlan;
}

interface Step {
  readonly op: Op | { readonly kind: "first-deploy" };
  /** The deployed state the operation started from; absent for the first deploy. */
  readonly before?: Deployed;
  /** The new state, when the operation was accepted and the config validated. */
  readonly after?: Deployed;
  /** The CanaryRuleError of a refused operation. */
  readonly refused?: CanaryRuleError;
  /** For a refused operation: whether the config handed to the lifecycle is as it was. */
  readonly untouched?: boolean;
  /** A hand edit that does not validate: `pulumi up` stops before deploying anything. */
  readonly handEditInvalid?: boolean;
  /** Validation issues of the state an accepted operation produced. */
  readonly invalid?: string;
  /** What Cloud Run answered to the new state. */
  readonly deploy?: ApplyResult;
  /** Revisions that existed before this step's deploy. */
  readonly existedBefore: ReadonlySet<string>;
  /** A region added while a canary runs: skipped, as docs/canary-and-rollout.md tells users (the region has no stable revision). */
  readonly regionAddedMidCanary?: boolean;
}

function deployable(file: StackFile, name: string): Deployed | string {
  const result = validate(STACK, flatten(file));
  if (!result.ok) return JSON.stringify(result.issues, null, 2);
  const config = result.config;
  const service = config.services.find((s) => s.name === name);
  if (!service) return `service ${name} is missing after validation`;
  if (!service.stable.image) return `service ${name} has no stable image`;
  const email = serviceAccountEmail(runtimeAccountId(service.name), config.project);
  const d = desiredState(service, service.stable.image, email);
  const desired: DesiredService = {
    service: service.name,
    templateRevision: d.plan.templateRevision,
    template: d.template,
    traffic: d.plan.traffic,
  };
  return { file, config, service, desired, plan: d.plan, cliPlan: servicePlan(config, service).plan };
}

interface Simulation {
  readonly steps: Step[];
  /** The service in its first region. */
  readonly cloudRun: CloudRunService;
  /** The service in every region it runs in now. */
  readonly regions: ReadonlyMap<string, CloudRunService>;
}

function simulate(init: Initial, ops: readonly Op[]): Simulation {
  const name = init.name;
  // One Cloud Run service per region; a region dropped from the list is deleted, one added starts empty.
  const regions = new Map<string, CloudRunService>();
  const steps: Step[] = [];
  /** Revisions of the service in its first region (every region has the same ones). */
  const revisionsNow = () => new Set<string>(regions.values().next().value?.revisions.keys() ?? []);

  const deploy = (op: Step["op"], before: Deployed | undefined, file: StackFile): Deployed | undefined => {
    const existedBefore = revisionsNow();
    const next = deployable(file, name);
    if (typeof next === "string") {
      steps.push({ op, before, invalid: next, existedBefore });
      return undefined;
    }
    for (const region of [...regions.keys()])
      if (!next.service.regions.includes(region)) regions.delete(region);
    let result: ApplyResult = { ok: true, created: false };
    for (const region of next.service.regions) {
      const service = regions.get(region) ?? new CloudRunService(name);
      regions.set(region, service);
      const applied = service.apply(next.desired);
      if (!applied.ok) result = { ok: false, reason: `${region}: ${applied.reason}` };
      else if (result.ok && applied.created) result = applied;
    }
    steps.push({ op, before, after: next, deploy: result, existedBefore });
    return next;
  };

  let current = deploy({ kind: "first-deploy" }, undefined, firstDeployFile(init));
  for (const op of ops) {
    if (!current) break;
    let file: StackFile;
    if (op.kind === "config") {
      const change = op.change;
      if (
        change.setting === "regions" &&
        current.service.canary &&
        change.value.some((r) => !current?.service.regions.includes(r))
      ) {
        steps.push({ op, before: current, regionAddedMidCanary: true, existedBefore: new Set() });
        continue;
      }
      file = applyConfigChange(current.file, name, change);
    } else if (op.kind === "edit-canary") {
      file = followPinFix(writeCanaryByHand(current.file, name, op), name);
      if (typeof deployable(file, name) === "string") {
        steps.push({
          op,
          before: current,
          handEditInvalid: true,
          existedBefore: revisionsNow(),
        });
        continue;
      }
    } else {
      const snapshot = canonicalJson(current.config);
      try {
        file = applyToObject(current.file, decide(current.config, name, op));
      } catch (e) {
        if (!(e instanceof CanaryRuleError)) throw e;
        const untouched = canonicalJson(current.config) === snapshot;
        steps.push({
          op,
          before: current,
          refused: e,
          untouched,
          existedBefore: revisionsNow(),
        });
        continue;
      }
    }
    current = deploy(op, current, file);
  }
  const cloudRun = regions.get(steps[0]?.after?.service.regions[0] ?? "") ?? new CloudRunService(name);
  return { steps, cloudRun, regions };
}

// ---------------------------------------------------------------------------------------------------
// Helpers for the properties.

const show = (op: Step["op"]) => JSON.stringify(op, (_k, v: unknown) => (Number.isNaN(v) ? "NaN" : v));
const target = (d: Deployed, tag: "stable" | "canary"): TrafficTarget | undefined =>
  (d.desired.traffic as readonly TrafficTarget[]).find((t) => t.tag === tag);
const isValidPercent = (p: number) => Number.isInteger(p) && p >= 0 && p <= 100;
const hasRunningCanary = (d: Deployed) => d.service.canary !== undefined && !d.service.canary.rolledBack;

/** Steps whose operation is `kind`, with the operation narrowed. */
function stepsOf<K extends Op["kind"]>(steps: readonly Step[], kind: K) {
  return steps.flatMap((step) =>
    step.op.kind === kind ? [{ ...step, op: step.op as Extract<Op, { kind: K }> }] : [],
  );
}

/** Asserts that an operation was accepted and deployed; returns its before/after states. */
function accepted(step: Step): { before: Deployed; after: Deployed; deploy: ApplyResult & { ok: true } } {
  assert.equal(step.refused, undefined, `${show(step.op)} was refused: ${step.refused?.message}`);
  assert.equal(
    step.invalid,
    undefined,
    `the config after ${show(step.op)} does not validate: ${step.invalid}`,
  );
  assert.ok(step.before && step.after && step.deploy);
  assert.ok(
    step.deploy.ok,
    `Cloud Run refuses the state after ${show(step.op)}: ${step.deploy.ok ? "" : step.deploy.reason}`,
  );
  return { before: step.before, after: step.after, deploy: step.deploy };
}

/** Property a: every state reached validates and is accepted by Cloud Run; refusals change nothing. */
function assertEveryStateAccepted(steps: readonly Step[], cloudRun: CloudRunService, hint = ""): void {
  for (const step of steps) {
    if (step.handEditInvalid || step.regionAddedMidCanary) continue;
    if (step.refused) {
      assert.ok(step.untouched, `${show(step.op)} changed the config it was given while refusing it`);
      continue;
    }
    assert.equal(
      step.invalid,
      undefined,
      `the config after ${show(step.op)} does not validate: ${step.invalid}`,
    );
    assert.ok(step.after && step.deploy);
    assert.ok(
      step.deploy.ok,
      `Cloud Run refuses the state after ${show(step.op)}: ${step.deploy.ok ? "" : step.deploy.reason}${hint}`,
    );
    assert.deepEqual(
      step.after.cliPlan,
      step.after.plan,
      "the CLI's servicePlan and the program's desiredState disagree",
    );
    assert.ok(
      step.after.desired.traffic.some((t) => t.revision === step.after?.desired.templateRevision),
      `after ${show(step.op)} the template's revision is not in the traffic list (stranded at 0%)`,
    );
  }
  assert.ok(cloudRun.revisions.size <= steps.length, "at most one revision per deploy");
}

function assertRefused(step: Step, why: string): void {
  assert.ok(step.refused instanceof CanaryRuleError, `${show(step.op)} must be refused (${why})`);
  assert.ok(step.untouched, `${show(step.op)} changed the config it was given while refusing it`);
}

/** Counts the checks a property made, so that a generator that never reaches a case fails loudly. */
function coverage() {
  const counts = new Map<string, number>();
  return {
    hit: (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1),
    expect: (...what: string[]) => {
      for (const w of what) assert.ok((counts.get(w) ?? 0) > 0, `no generated sequence reached: ${w}`);
    },
  };
}

const check = <T extends unknown[]>(property: fc.IProperty<T>) => fc.assert(property, { numRuns: NUM_RUNS });

// ---------------------------------------------------------------------------------------------------

describe("canary lifecycle (property-based, against a model of Cloud Run)", () => {
  it("the Cloud Run model itself refuses what Cloud Run refuses (rules 1-6)", () => {
    const template = (image: string) => ({ containers: [{ image }] });
    const request = (over: Partial<DesiredService> = {}): DesiredService => ({
      service: "api",
      templateRevision: "api-aaaa",
      template: template("a"),
      traffic: [{ revision: "api-aaaa", percent: 100, tag: "stable" }],
      ...over,
    });
    const refusal = (service: CloudRunService, desired: DesiredService) => {
      const result = service.apply(desired);
      return result.ok ? "accepted" : result.reason.slice(0, 6);
    };
    const fresh = new CloudRunService("api");
    assert.equal(refusal(fresh, request({ templateRevision: "web-aaaa" })), "rule 1");
    assert.equal(refusal(fresh, request({ templateRevision: "api-Aaaa" })), "rule 1");
    assert.equal(refusal(fresh, request({ templateRevision: "api-aaaa-" })), "rule 1");
    assert.equal(refusal(fresh, request({ templateRevision: `api-${"a".repeat(60)}` })), "rule 1");
    const stranded = { revision: "api-bbbb", percent: 50, tag: "canary" };
    assert.equal(
      refusal(fresh, request({ traffic: [{ revision: "api-aaaa", percent: 50 }, stranded] })),
      "rule 3",
    );
    for (const percents of [
      [50, 40],
      [50.5, 49.5],
      [-10, 110],
      [100, 1],
    ]) {
      const traffic = percents.map((percent, i) => ({ revision: "api-aaaa", percent, tag: `t${i}` }));
      assert.equal(refusal(fresh, request({ traffic })), "rule 4", JSON.stringify(percents));
    }
    const twice = [50, 50].map((percent) => ({ revision: "api-aaaa", percent, tag: "stable" }));
    assert.equal(refusal(fresh, request({ traffic: twice })), "rule 5");
    const long = [{ revision: "api-aaaa", percent: 100, tag: "t".repeat(44) }];
    assert.equal(refusal(fresh, request({ traffic: long })), "rule 5");
    assert.equal(fresh.revisions.size, 0, "refused requests create nothing");

    assert.deepEqual(fresh.apply(request()), { ok: true, created: true });
    assert.deepEqual(fresh.apply(request()), { ok: true, created: false });
    assert.equal(refusal(fresh, request({ template: template("b") })), "rule 2");
    const split = [
      { revision: "api-aaaa", percent: 90, tag: "stable" },
      { revision: "api-bbbb", percent: 10, tag: "canary" },
    ];
    assert.deepEqual(
      fresh.apply(request({ templateRevision: "api-bbbb", template: template("b"), traffic: split })),
      { ok: true, created: true },
    );

    const full = new CloudRunService("api");
    for (let i = 0; i < 1000; i++) {
      const name = `api-${i}`;
      const result = full.apply(request({ templateRevision: name, template: template(name), traffic: [] }));
      assert.ok(!result.ok && result.reason.startsWith("rule 4"), "an empty traffic list sums to 0");
      const ok = full.apply(
        request({
          templateRevision: name,
          template: template(name),
          traffic: [{ revision: name, percent: 100 }],
        }),
      );
      assert.ok(ok.ok);
    }
    assert.equal(
      refusal(
        full,
        request({
          templateRevision: "api-1000",
          template: template("api-1000"),
          traffic: [{ revision: "api-1000", percent: 100 }],
        }),
      ),
      "rule 6",
    );
  });

  it("a. every state reached is accepted by Cloud Run (rules 1-6), starting from a first deploy with stable only at 100%", () => {
    const sequences = fc.oneof(
      opsArb,
      around(startArb, configArb, promoteOp),
      around(startArb, rollbackOp, configArb, setArb),
    );
    check(
      fc.property(initialArb, sequences, (init, ops) => {
        const { steps, cloudRun } = simulate(init, ops);
        assertEveryStateAccepted(steps, cloudRun);
      }),
    );
  });

  it("a'. ...also when a canary is written into the stack file by hand: the missing pin is refused, and the pin the error names is right", () => {
    const handCanary: fc.Arbitrary<Op> = fc.record({
      kind: fc.constant("edit-canary" as const),
      image: imageArb,
      percent: validPercent,
    });
    const sequences = fc.oneof(
      fc.array(fc.oneof(opArb, handCanary), { maxLength: MAX_OPS, size: "max" }),
      around(handCanary, configArb),
    );
    // Validation refuses a canary without `stable.revision` and names the revision to pin; following
    // that fix must always give a state Cloud Run accepts, even after settings changed mid-canary.
    const before = pinFixesFollowed;
    check(
      fc.property(initialArb, sequences, (init, ops) => {
        const { steps, cloudRun } = simulate(init, ops);
        assertEveryStateAccepted(steps, cloudRun);
      }),
    );
    assert.ok(
      pinFixesFollowed > before,
      "some hand-written canaries were refused for the missing pin and fixed",
    );
  });

  it("b. first deploy: exactly one revision, serving 100% and tagged stable", () => {
    check(
      fc.property(initialArb, (init) => {
        const { steps, cloudRun } = simulate(init, []);
        assert.equal(steps.length, 1);
        const [first] = steps;
        assert.equal(
          first.invalid,
          undefined,
          `the first deploy's config does not validate: ${first.invalid}`,
        );
        assert.ok(
          first.after && first.deploy?.ok,
          `Cloud Run refuses the first deploy: ${JSON.stringify(first.deploy)}`,
        );
        assert.equal(first.deploy.created, true);
        assert.deepEqual([...cloudRun.revisions.keys()], [first.after.desired.templateRevision]);
        assert.deepEqual(first.after.desired.traffic, [
          { revision: first.after.desired.templateRevision, percent: 100, tag: "stable" },
        ]);
      }),
    );
  });

  it("b. a config with a canary but no stable release fails validation, saying there is no stable release", () => {
    const noStable = fc.constantFrom<Record<string, unknown>>({}, { stable: {} });
    check(
      fc.property(initialArb, noStable, imageArb, validPercent, (init, without, image, percent) => {
        const file = firstDeployFile(init);
        const service = rawService(file, init.name);
        delete service.stable;
        Object.assign(service, without, { canary: { image, percent } });
        const result = validate(STACK, flatten(file));
        assert.ok(!result.ok, "a canary without a stable release must not validate");
        const issue = result.issues.find((i) => i.path === `${SERVICES}.${init.name}.stable`);
        assert.ok(issue, `no issue at ${SERVICES}.${init.name}.stable: ${JSON.stringify(result.issues)}`);
        assert.match(issue.message, /stable release/);
        assert.match(issue.message, /has none|no stable release/);
      }),
    );
  });

  it("c. start: the canary takes P% (0 allowed, default 10) tagged canary, stable keeps 100-P tagged stable", () => {
    const seen = coverage();
    const sequences = fc.oneof(opsArb, around(startArb), around(startArb, rollbackOp, startArb));
    check(
      fc.property(initialArb, sequences, (init, ops) => {
        for (const step of stepsOf(simulate(init, ops).steps, "start")) {
          const before = step.before as Deployed;
          if (step.op.percent !== undefined && !isValidPercent(step.op.percent)) {
            assertRefused(step, `percent ${step.op.percent} is not a whole number from 0 to 100`);
            seen.hit("invalid percent");
            continue;
          }
          if (hasRunningCanary(before) || step.op.image === before.service.stable.image) {
            assertRefused(step, "a canary is running, or the image is the stable one");
            continue;
          }
          const { after, deploy } = accepted(step);
          const percent = step.op.percent ?? DEFAULT_CANARY_PERCENT;
          const stableBefore = target(before, "stable");
          assert.ok(stableBefore);
          assert.deepEqual(after.desired.traffic, [
            { revision: stableBefore.revision, percent: 100 - percent, tag: "stable" },
            { revision: after.desired.templateRevision, percent, tag: "canary" },
          ]);
          assert.ok(step.existedBefore.has(stableBefore.revision), "stable serves from an existing revision");
          assert.equal(
            (after.desired.template as { containers: [{ image: string }] }).containers[0].image,
            step.op.image,
            "the template carries the canary image",
          );
          assert.equal(deploy.created, !step.existedBefore.has(after.desired.templateRevision));
          seen.hit(percent === 0 ? "dark launch" : "started");
          if (step.op.percent === undefined) seen.hit("default percent");
          if (before.service.canary?.rolledBack) seen.hit("start after rollback");
        }
      }),
    );
    seen.expect("started", "dark launch", "default percent", "invalid percent", "start after rollback");
  });

  it("d. set: changes traffic only; same template revision and template, no new revision", () => {
    const seen = coverage();
    const sequences = fc.oneof(opsArb, around(startArb, setArb), around(startArb, rollbackOp, setArb));
    check(
      fc.property(initialArb, sequences, (init, ops) => {
        for (const step of stepsOf(simulate(init, ops).steps, "set")) {
          const before = step.before as Deployed;
          if (!isValidPercent(step.op.percent) || !before.service.canary) {
            assertRefused(step, "invalid percent or no canary");
            seen.hit("refused");
            continue;
          }
          const { after, deploy } = accepted(step);
          const p = step.op.percent;
          assert.equal(
            after.desired.templateRevision,
            before.desired.templateRevision,
            "template revision changed",
          );
          assert.equal(canonicalJson(after.desired.template), canonicalJson(before.desired.template));
          assert.equal(deploy.created, false, "set created a revision");
          assert.deepEqual(after.desired.traffic, [
            { revision: target(before, "stable")?.revision, percent: 100 - p, tag: "stable" },
            { revision: before.desired.templateRevision, percent: p, tag: "canary" },
          ]);
          assert.equal(after.service.canary?.rolledBack, false, "set clears a rollback");
          seen.hit(before.service.canary.rolledBack ? "set after rollback" : "set");
        }
      }),
    );
    seen.expect("set", "set after rollback", "refused");
  });

  it("e. promote: the canary becomes stable at 100%, without creating a revision", () => {
    const seen = coverage();
    const sequences = fc.oneof(
      opsArb,
      around(startArb, promoteOp),
      around(startArb, configArb, promoteOp),
      around(startArb, rollbackOp, promoteOp),
    );
    check(
      fc.property(initialArb, sequences, (init, ops) => {
        for (const step of stepsOf(simulate(init, ops).steps, "promote")) {
          const before = step.before as Deployed;
          const canary = before.service.canary;
          if (!canary || canary.rolledBack) {
            assertRefused(step, canary ? "the canary was rolled back" : "there is no canary");
            seen.hit(canary ? "promote after rollback refused" : "promote without canary refused");
            continue;
          }
          const { after, deploy } = accepted(step);
          assert.equal(
            after.desired.templateRevision,
            before.desired.templateRevision,
            "promote changed the template revision: Cloud Run would create a new revision",
          );
          assert.equal(canonicalJson(after.desired.template), canonicalJson(before.desired.template));
          assert.equal(deploy.created, false, "promote created a revision");
          assert.deepEqual(after.desired.traffic, [
            { revision: before.desired.templateRevision, percent: 100, tag: "stable" },
          ]);
          assert.equal(after.service.stable.image, canary.image);
          assert.equal(after.service.stable.revision, undefined);
          assert.equal(after.service.canary, undefined);
          seen.hit(canary.percent === 0 ? "promote dark launch" : "promote");
        }
      }),
    );
    seen.expect(
      "promote",
      "promote dark launch",
      "promote after rollback refused",
      "promote without canary refused",
    );
  });

  it("f. rollback: 100% to stable, template unchanged, canary still listed at its tag with 0%", () => {
    const seen = coverage();
    const sequences = fc.oneof(opsArb, around(rollbackOp), around(startArb, rollbackOp, rollbackOp));
    check(
      fc.property(initialArb, sequences, (init, ops) => {
        for (const step of stepsOf(simulate(init, ops).steps, "rollback")) {
          const before = step.before as Deployed;
          if (!before.service.canary) {
            assertRefused(step, "there is no canary");
            seen.hit("refused");
            continue;
          }
          const { after, deploy } = accepted(step);
          assert.equal(
            after.desired.templateRevision,
            before.desired.templateRevision,
            "template revision changed",
          );
          assert.equal(canonicalJson(after.desired.template), canonicalJson(before.desired.template));
          assert.equal(deploy.created, false, "rollback created a revision");
          assert.deepEqual(after.desired.traffic, [
            { revision: target(before, "stable")?.revision, percent: 100, tag: "stable" },
            { revision: before.desired.templateRevision, percent: 0, tag: "canary" },
          ]);
          seen.hit(before.service.canary.rolledBack ? "rollback twice" : "rollback");
        }
      }),
    );
    seen.expect("rollback", "rollback twice", "refused");
  });

  it("g. a config-only change gets a new revision that is never a 409 and never silently at 0%", () => {
    const seen = coverage();
    const sequences = fc.oneof(
      opsArb,
      around(configArb),
      around(startArb, configArb),
      around(startArb, rollbackOp, configArb),
    );
    check(
      fc.property(initialArb, sequences, (init, ops) => {
        for (const step of stepsOf(simulate(init, ops).steps, "config")) {
          const { before, after, deploy } = accepted(step);
          if (canonicalJson(after.service) === canonicalJson(before.service)) {
            // The same value again: nothing to deploy.
            assert.deepEqual(after.desired, before.desired);
            assert.equal(deploy.created, false);
            continue;
          }
          assert.notEqual(
            after.desired.templateRevision,
            before.desired.templateRevision,
            `${show(step.op)} kept the revision name ${before.desired.templateRevision}`,
          );
          const canary = after.service.canary;
          if (!canary) {
            assert.deepEqual(after.desired.traffic, [
              { revision: after.desired.templateRevision, percent: 100, tag: "stable" },
            ]);
            seen.hit("no canary");
            continue;
          }
          const stable = target(after, "stable");
          assert.ok(stable);
          assert.equal(
            stable.revision,
            target(before, "stable")?.revision,
            "stable moved to another revision",
          );
          assert.ok(
            step.existedBefore.has(stable.revision),
            "stable serves from a revision that does not exist",
          );
          assert.deepEqual(target(after, "canary"), {
            revision: after.desired.templateRevision,
            percent: canary.rolledBack ? 0 : canary.percent,
            tag: "canary",
          });
          seen.hit(
            canary.rolledBack ? "rolled back canary" : canary.percent === 0 ? "dark launch" : "canary",
          );
        }
      }),
    );
    seen.expect("no canary", "canary", "dark launch", "rolled back canary");
  });

  it("h. starting a second canary is refused, and so is promoting without a canary; both leave the state as it was", () => {
    const seen = coverage();
    const twice = fc.tuple(opsArb, startArb, startArb).map(([prefix, a, b]) => [...prefix, a, b]);
    const promoteTwice = opsArb.map((prefix) => [
      ...prefix,
      { kind: "promote" as const },
      { kind: "promote" as const },
    ]);
    check(
      fc.property(initialArb, fc.oneof(twice, promoteTwice, opsArb), (init, ops) => {
        const steps = simulate(init, ops).steps;
        for (const step of stepsOf(steps, "start")) {
          if (!step.before || !hasRunningCanary(step.before)) continue;
          assertRefused(step, "a canary is already running");
          seen.hit("second start");
        }
        for (const step of stepsOf(steps, "promote")) {
          if (!step.before || step.before.service.canary) continue;
          assertRefused(step, "there is no canary");
          seen.hit("promote without canary");
        }
      }),
    );
    seen.expect("second start", "promote without canary");
  });

  const REGION_POOL = ["europe-west1", "europe-west4", "us-central1"];
  const regionsArb = fc.subarray(REGION_POOL, { minLength: 1 });
  const regionChange: fc.Arbitrary<Op> = regionsArb.map((value) => ({
    kind: "config",
    change: { setting: "regions", value },
  }));

  it("i. several regions: every region accepts every state and serves the same split; regions come and go between releases", () => {
    const seen = coverage();
    const withRegions = fc.array(
      fc.oneof({ weight: 4, arbitrary: opArb }, { weight: 1, arbitrary: regionChange }),
      {
        maxLength: MAX_OPS,
      },
    );
    check(
      fc.property(initialArb, regionsArb, withRegions, (init, regions, ops) => {
        const { steps, regions: deployed } = simulate({ ...init, regions }, ops);
        for (const step of steps) {
          if (step.regionAddedMidCanary) {
            seen.hit("region added mid-canary skipped");
            continue;
          }
          if (step.handEditInvalid || step.refused) continue;
          assert.equal(step.invalid, undefined, `${show(step.op)}: ${step.invalid}`);
          assert.ok(
            step.deploy?.ok,
            `${show(step.op)}: ${step.deploy && !step.deploy.ok ? step.deploy.reason : ""}`,
          );
        }
        const last = [...steps].reverse().find((s) => s.after)?.after;
        assert.ok(last);
        assert.deepEqual([...deployed.keys()].sort(), [...last.service.regions].sort());
        const splits = [...deployed.values()].map((service) => JSON.stringify(service.serving));
        assert.equal(new Set(splits).size, 1, `regions serve different splits: ${splits.join(" | ")}`);
        assert.equal(splits[0], JSON.stringify(last.desired.traffic));
        if (deployed.size > 1) seen.hit("several regions");
        if (steps.some((s) => s.op.kind === "config" && s.op.change.setting === "regions" && s.deploy?.ok))
          seen.hit("regions changed");
      }),
    );
    seen.expect("several regions", "regions changed", "region added mid-canary skipped");
  });

  it("i'. why regions are added between releases: a new region has no stable revision for a running canary to split with", () => {
    const init: Initial = {
      name: "api",
      stableImage: `${REPO}@${digest("pool-0")}`,
      regions: ["europe-west1"],
    };
    const { steps } = simulate(init, [{ kind: "start", image: `${REPO}@${digest("fresh-1")}`, percent: 10 }]);
    const running = steps[1].after;
    assert.ok(running);
    // Deploying that state to a region that has never run the service:
    const fresh = new CloudRunService("api");
    const result = fresh.apply(running.desired);
    assert.ok(!result.ok && result.reason.startsWith("rule 3"), JSON.stringify(result));
  });
});
