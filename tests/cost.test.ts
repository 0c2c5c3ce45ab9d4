import { strict as assert } from "node:assert";
import fc from "fast-check";
import { costDiff } from "../cli/diff/cost";
import { formatDiffMarkdown, formatDiffText } from "../cli/diff/format";
import { diffStacks } from "../cli/diff/stackDiff";
import { declaredStack } from "../cli/cost/run";
import { listStacks, readStackConfig } from "../render/stackFile";
import {
  declaredFromResources,
  declaredRunService,
  declaredServices,
  parseCpu,
  parseMemoryGiB,
  type DeclaredRunService,
  type DeclaredStack,
} from "../model/cost/declared";
import {
  costChanges,
  estimate,
  forwardingRulesMonthly,
  regionCost,
  usd,
  warmInstances,
} from "../model/cost/estimate";
import {
  CLOUD_ARMOR,
  CLOUD_RUN,
  FORWARDING_RULES,
  PRICE_TABLE_DATE,
  RUN_REGION_TIERS,
  type Price,
} from "../model/cost/prices";
import type { StackConfig } from "../model/types";
import { cleanupTempProjects, describeRun, makeTempProject, type CliResult } from "./support/cliHarness";
import { docBlock, readDoc } from "./support/docs";
import { runInProcess } from "./support/inProcessCli";
import {
  baseConfig,
  REPO,
  digest,
  renderRepoStack,
  renderWithConfig,
  ROOT,
  validate,
  withServingCanary,
} from "./support/render";

const check = <T>(property: fc.IPropertyWithHooks<T> | fc.IProperty<T>, numRuns = 200) =>
  fc.assert(property, { numRuns });

const near = (actual: number, expected: number, what = "") =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what} ${actual} != ${expected}`);

function configOf(flat: Record<string, string>, stack = "prod"): StackConfig {
  const result = validate(stack, flat);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.config;
}

const run = (over: Partial<DeclaredRunService> = {}): DeclaredRunService => ({
  service: "api",
  region: "europe-west1",
  cpu: 1,
  memoryGiB: 0.5,
  billing: "request",
  serviceMinInstances: 1,
  revisionMinInstances: 0,
  addressableRevisions: 1,
  ...over,
});

describe("cost: the price table", () => {
  const prices: [string, Price][] = [
    ...Object.entries(CLOUD_RUN).flatMap(([tier, modes]) =>
      Object.entries(modes).flatMap(([mode, p]) =>
        Object.entries(p as Record<string, Price>).map(
          ([k, v]) => [`${tier}.${mode}.${k}`, v] as [string, Price],
        ),
      ),
    ),
    ...Object.entries(FORWARDING_RULES).map(([k, v]) => [`forwarding.${k}`, v] as [string, Price]),
    ...Object.entries(CLOUD_ARMOR).map(([k, v]) => [`armor.${k}`, v] as [string, Price]),
  ];

  it("every price is positive, dated no later than the table and names Google's page", () => {
    assert.ok(prices.length >= 16);
    for (const [name, p] of prices) {
      assert.ok(p.usd > 0, name);
      assert.match(p.asOf, /^\d{4}-\d{2}-\d{2}$/, name);
      assert.ok(p.asOf <= PRICE_TABLE_DATE, name);
      assert.match(p.source, /^https:\/\/cloud\.google\.com\//, name);
      if (p.basis !== "published")
        assert.ok(p.note, `${name}: a price not read on the pricing page says how it was`);
    }
  });

  it("an idle min instance costs less than a busy one, and Tier 2 no less than Tier 1", () => {
    for (const tier of ["tier1", "tier2"] as const)
      for (const k of ["cpu", "memory"] as const)
        assert.ok(CLOUD_RUN[tier].idle[k].usd <= CLOUD_RUN[tier].request[k].usd, `${tier} ${k}`);
    for (const mode of ["instance", "request", "idle"] as const)
      for (const k of ["cpu", "memory"] as const)
        assert.ok(CLOUD_RUN.tier2[mode][k].usd >= CLOUD_RUN.tier1[mode][k].usd, `${mode} ${k}`);
  });

  it("docs/cost.md shows the table's Cloud Run prices", () => {
    const page = readDoc("docs/cost.md");
    const row = (label: string) => page.split("\n").find((l) => l.startsWith(`| ${label}`)) ?? "";
    const pair = (p: { cpu: Price; memory: Price }) => `$${p.cpu.usd} / $${p.memory.usd}`;
    for (const [label, mode] of [
      ["instance-based", "instance"],
      ["request-based", "request"],
      ["idle min instance", "idle"],
    ] as const)
      for (const tier of ["tier1", "tier2"] as const)
        assert.ok(row(label).includes(pair(CLOUD_RUN[tier][mode])), `${label} ${tier}: ${row(label)}`);
  });

  it("every region a committed stack runs in has a tier", () => {
    for (const stack of listStacks(ROOT)) {
      const result = validate(stack, readStackConfig(ROOT, stack).flat);
      assert.ok(result.ok, stack);
      for (const svc of result.config.services)
        for (const region of svc.regions) assert.ok(RUN_REGION_TIERS[region], `${stack}: ${region}`);
    }
  });
});

describe("cost: hand-checked estimates", () => {
  // A month is 730 h = 2,628,000 s.
  it("a request-based min instance pays the idle rate; an instance-based one the full rate", () => {
    // 1 vCPU x 2,628,000 s x $0.0000025 = $6.57; 0.5 GiB x 2,628,000 s x $0.0000025 = $3.285.
    const idle = regionCost(run());
    near(idle.cpuUsd!, 6.57, "cpu");
    near(idle.memoryUsd!, 3.285, "memory");
    near(idle.monthlyUsd!, 9.855);
    // 1 vCPU x 2,628,000 s x $0.000018 = $47.304; 0.5 GiB x 2,628,000 s x $0.000002 = $2.628.
    near(regionCost(run({ billing: "instance" })).monthlyUsd!, 49.932);
  });

  it("a Tier 2 region, two instances of 2 vCPU and 1 GiB", () => {
    // 2 x 2 vCPU x 2,628,000 s x $0.0000035 = $36.792; 2 x 1 GiB x 2,628,000 s x $0.0000035 = $18.396.
    const r = regionCost(run({ region: "europe-west3", cpu: 2, memoryGiB: 1, serviceMinInstances: 2 }));
    assert.equal(r.tier, "tier2");
    near(r.monthlyUsd!, 55.188);
  });

  it("forwarding rules: the first five together, then each one", () => {
    near(forwardingRulesMonthly(0), 0);
    near(forwardingRulesMonthly(2), 18.25); // $0.025 x 730
    near(forwardingRulesMonthly(5), 18.25);
    near(forwardingRulesMonthly(7), 32.85); // ($0.025 + 2 x $0.01) x 730
  });

  it("the prod stack: two regions of api, one of worker, the balancer and Cloud Armor", () => {
    const config = configOf(readStackConfig(ROOT, "prod").flat);
    const e = estimate(declaredStack(config));
    // api: 2 instances x (2 vCPU + 1 GiB) x 2,628,000 s x $0.0000025 = $39.42 per region, two regions.
    // worker: 1 x (2 vCPU + 2 GiB) x 2,628,000 s x $0.0000025 = $26.28.
    // Balancer: 2 forwarding rules = $18.25. Armor: $5 + 10 rules (8 OWASP, the throttle, the default) x $1.
    assert.deepEqual(
      e.regions.map((r) => [r.service, r.region, Number(r.monthlyUsd!.toFixed(2))]),
      [
        ["api", "europe-west1", 39.42],
        ["api", "europe-west4", 39.42],
        ["worker", "europe-west1", 26.28],
      ],
    );
    assert.deepEqual(e.balancer && [e.balancer.forwardingRules, e.balancer.monthlyUsd], [2, 18.25]);
    assert.deepEqual(e.armor && [e.armor.policies, e.armor.rules, e.armor.monthlyUsd], [1, 10, 15]);
    assert.equal(usd(e.totalUsd), "$138.37");
    assert.equal(e.complete, true);
  });

  it("a region without a tier is an unpriced line, never $0, and the estimate says it is incomplete", () => {
    const e = estimate({ services: [run(), run({ region: "mars-north1" })] });
    const unpriced = e.regions.find((r) => r.region === "mars-north1")!;
    assert.equal(unpriced.monthlyUsd, undefined);
    assert.match(unpriced.unpriced!, /mars-north1 is not in the price table/);
    assert.equal(e.complete, false);
    assert.equal(e.services[0].incomplete, true);
    near(e.totalUsd, 9.855);
  });

  it("reads CPU and memory as Cloud Run writes them", () => {
    assert.deepEqual(["1", "2", "0.5", "1000m", "4"].map(parseCpu), [1, 2, 0.5, 1, 4]);
    assert.deepEqual(["512Mi", "1Gi", "2Gi", "256Mi"].map(parseMemoryGiB), [0.5, 1, 2, 0.25]);
    assert.throws(() => parseMemoryGiB("1 GB"), /cannot read the memory limit "1 GB"/);
  });
});

describe("cost: revisions and min instances", () => {
  /** A dark launch: a canary serving 0% under its tag, as `orchestra canary start --percent 0` leaves it. */
  const darkLaunch = (flat: Record<string, string>) =>
    withServingCanary(flat, `${REPO}@${digest("canary")}`, 0);

  it("min instances on the service: a canary at 0% (tagged, addressable) adds nothing", () => {
    const plain = configOf(baseConfig({ scaling: { minInstances: 3 } }));
    const dark = configOf(darkLaunch(baseConfig({ scaling: { minInstances: 3 } })));
    assert.equal(declaredServices(dark)[0].addressableRevisions, 2, "stable and the tagged canary");
    assert.equal(declaredServices(dark)[0].revisionMinInstances, 0, "the program sets none on revisions");
    near(estimate(declaredStack(dark)).totalUsd, estimate(declaredStack(plain)).totalUsd);
  });

  it("min instances on a revision would start for a tagged revision at 0% too: Cloud Run bills both", () => {
    const resource = {
      type: "gcp:cloudrunv2/service:Service",
      name: "api-service",
      inputs: {
        name: "api",
        location: "europe-west1",
        template: {
          scaling: { minInstanceCount: 2 },
          containers: [{ resources: { limits: { cpu: "1", memory: "512Mi" }, cpuIdle: true } }],
        },
        traffics: [
          { revision: "api-a", percent: 100, tag: "stable" },
          { revision: "api-b", percent: 0, tag: "canary" },
        ],
      },
    };
    const declared = declaredRunService(resource);
    assert.equal(declared.addressableRevisions, 2);
    assert.equal(warmInstances(declared), 4);
    // Untagged at 0%: not addressable, not started.
    const untagged = declaredRunService({
      ...resource,
      inputs: {
        ...resource.inputs,
        traffics: [
          { revision: "api-a", percent: 100, tag: "stable" },
          { revision: "api-b", percent: 0 },
        ],
      },
    });
    assert.equal(warmInstances(untagged), 2);
  });

  it("properties: a tagged revision at 0% never adds to min instances set on the service", () => {
    check(
      fc.property(
        fc.integer({ min: 0, max: 10 }),
        fc.constantFrom("request", "instance"),
        (min, cpuAllocation) => {
          const service = { scaling: { minInstances: min }, cpuAllocation };
          const without = estimate(declaredStack(configOf(baseConfig(service))));
          const withDark = estimate(declaredStack(configOf(darkLaunch(baseConfig(service)))));
          near(withDark.totalUsd, without.totalUsd);
        },
      ),
      50,
    );
  });
});

describe("cost: properties of the estimate", () => {
  const priced = Object.keys(RUN_REGION_TIERS);
  const serviceArb = fc.record({
    service: fc.constantFrom("api", "worker", "jobs"),
    region: fc.constantFrom(...priced),
    cpu: fc.constantFrom(1, 2, 4, 6, 8),
    memoryGiB: fc.constantFrom(0.5, 1, 2, 4, 8),
    billing: fc.constantFrom("request" as const, "instance" as const),
    serviceMinInstances: fc.integer({ min: 0, max: 50 }),
    revisionMinInstances: fc.integer({ min: 0, max: 3 }),
    addressableRevisions: fc.integer({ min: 1, max: 3 }),
  });
  const stackArb: fc.Arbitrary<DeclaredStack> = fc.record(
    {
      services: fc.array(serviceArb, { minLength: 1, maxLength: 6 }),
      balancer: fc.record({
        forwardingRules: fc.integer({ min: 0, max: 8 }),
        armorPolicies: fc.integer({ min: 0, max: 2 }),
        armorRules: fc.integer({ min: 0, max: 10 }),
      }),
    },
    { requiredKeys: ["services"] },
  );

  it("never decreases when any service's min instances grow", () => {
    check(
      fc.property(stackArb, fc.nat(), fc.integer({ min: 1, max: 10 }), (stack, pick, more) => {
        const i = pick % stack.services.length;
        const grown = {
          ...stack,
          services: stack.services.map((s, j) =>
            j === i ? { ...s, serviceMinInstances: s.serviceMinInstances + more } : s,
          ),
        };
        assert.ok(estimate(grown).totalUsd >= estimate(stack).totalUsd);
        assert.ok(regionCost(grown.services[i]).monthlyUsd! >= regionCost(stack.services[i]).monthlyUsd!);
      }),
    );
  });

  it("more regions never cost less, from the config as the program reads it", () => {
    const regionsArb = fc.uniqueArray(fc.constantFrom(...priced), { minLength: 1, maxLength: 5 });
    check(
      fc.property(
        regionsArb,
        fc.constantFrom(...priced),
        fc.integer({ min: 0, max: 5 }),
        (regions, extra, min) => {
          const service = (list: string[]) => ({ regions: list, scaling: { minInstances: min } });
          const fewer = estimate(declaredStack(configOf(baseConfig(service(regions)))));
          const more = estimate(
            declaredStack(configOf(baseConfig(service([...new Set([...regions, extra])])))),
          );
          assert.ok(more.totalUsd >= fewer.totalUsd);
        },
      ),
      100,
    );
  });

  it("the total is the sum of its lines", () => {
    check(
      fc.property(stackArb, (stack) => {
        const e = estimate(stack);
        const lines =
          e.regions.reduce((s, r) => s + (r.monthlyUsd ?? 0), 0) +
          (e.balancer?.monthlyUsd ?? 0) +
          (e.armor?.monthlyUsd ?? 0);
        assert.ok(Math.abs(e.totalUsd - lines) < 1e-6);
      }),
    );
  });
});

describe("cost: config and render agree", () => {
  for (const stack of ["dev", "staging", "prod"])
    it(`${stack}: the config's estimate is the render's, service by service`, async () => {
      const config = configOf(readStackConfig(ROOT, stack).flat, stack);
      const fromConfig = declaredStack(config);
      const fromRender = declaredFromResources((await renderRepoStack(stack)).resources);
      const key = (s: DeclaredRunService) => `${s.service}/${s.region}`;
      const sorted = (list: readonly DeclaredRunService[]) =>
        [...list].sort((a, b) => key(a).localeCompare(key(b)));
      assert.deepEqual(sorted(fromRender.services), sorted(fromConfig.services));
      assert.deepEqual(fromRender.balancer, fromConfig.balancer);
      near(estimate(fromRender).totalUsd, estimate(fromConfig).totalUsd);
    });
});

describe("cost: the pull-request comment", () => {
  /** Prod as committed, and prod rendered with `edit` applied to the api service's settings. */
  async function prodWithApi(edit: (api: Record<string, unknown>) => Record<string, unknown>) {
    const file = readStackConfig(ROOT, "prod");
    const services = JSON.parse(file.flat["ai-orchestra:services"]) as Record<
      string,
      Record<string, unknown>
    >;
    const flat = {
      ...file.flat,
      "ai-orchestra:services": JSON.stringify({
        ...services,
        api: { ...services.api, ...edit(services.api) },
      }),
    };
    const before = await renderRepoStack("prod");
    const after = await renderWithConfig("prod", flat, file.secretKeys);
    return { before, after, cost: costDiff(before, after) };
  }
  const header = { stack: "prod", base: "main", baseCommit: "abc1234567", newStack: false };

  it("shows the monthly change per service when min instances grow", async () => {
    const { before, after, cost } = await prodWithApi((api) => ({
      scaling: { ...(api.scaling as object), minInstances: 3 },
    }));
    // api: one more instance in each of its two regions: (2 vCPU + 1 GiB) x 2,628,000 s x $0.0000025
    // = $19.71 a region, $39.42 in all: $78.84 -> $118.26; the stack $138.37 -> $177.79.
    assert.deepEqual(
      cost.changes.map((c) => [c.item, usd(c.beforeUsd), usd(c.afterUsd)]),
      [["api", "$78.84", "$118.26"]],
    );
    const md = formatDiffMarkdown(diffStacks(before, after), header, cost);
    assert.match(
      md,
      /#### Monthly cost\n\n\| service \| before \| after \| change \|\n\| --- \| --- \| --- \| --- \|\n/,
    );
    assert.match(md, /\| api \| \$78\.84 \| \$118\.26 \| \*\*\+\$39\.42\*\* \|/);
    assert.match(md, /\| total \| \$138\.37 \| \$177\.79 \| \*\*\+\$39\.42\*\* \|/);
    const text = formatDiffText(diffStacks(before, after), header, cost);
    assert.match(text, /Monthly cost \(always-on baseline\)\n {2}api: \$78\.84 → \$118\.26 \(\+\$39\.42\)/);
    assert.ok(md.indexOf("#### Traffic") < md.indexOf("#### Monthly cost"));
    assert.ok(md.indexOf("#### Monthly cost") < md.indexOf("#### Resources"));
    assert.match(md, /list prices of 2026-11-30, 730 hours a month/);
    // docs/cost.md shows this very section.
    const shown = docBlock("#### Monthly cost", "markdown");
    assert.ok(shown, "docs/cost.md shows the cost section");
    assert.ok(md.includes(shown.trim()), `docs/cost.md's example is not what the diff prints:\n${md}`);
  });

  it("one line when the change moves no always-on cost (a canary step)", async () => {
    const { before, after, cost } = await prodWithApi((api) => ({
      canary: { ...(api.canary as object), percent: 25 },
    }));
    assert.deepEqual(cost.changes, []);
    const md = formatDiffMarkdown(diffStacks(before, after), header, cost);
    assert.match(md, /#### Monthly cost\n\nNo change in the always-on baseline \(\$138\.37 a month\)\./);
    assert.doesNotMatch(md, /\| service \| before \| after \| change \|/);
  });

  it("a new stack: everything is a change from $0; a removed balancer moves its lines down", () => {
    const e = estimate({
      services: [run()],
      balancer: { forwardingRules: 2, armorPolicies: 1, armorRules: 3 },
    });
    assert.deepEqual(
      costChanges(undefined, e).map((c) => [c.item, c.beforeUsd, Number(c.afterUsd.toFixed(3))]),
      [
        ["api", 0, 9.855],
        ["load balancer (forwarding rules)", 0, 18.25],
        ["Cloud Armor", 0, 8],
      ],
    );
    const gone = estimate({ services: [run()] });
    assert.deepEqual(
      costChanges(e, gone).map((c) => [c.item, c.afterUsd]),
      [
        ["load balancer (forwarding rules)", 0],
        ["Cloud Armor", 0],
      ],
    );
  });
});

describe("orchestra cost", function () {
  this.timeout(120_000);
  after(cleanupTempProjects);

  const expectExit = (r: CliResult, code: number) => assert.equal(r.status, code, describeRun(r));

  it("prints a line per service and region, the balancer, Cloud Armor, the total and the price date", async () => {
    const r = await runInProcess(ROOT, ["cost", "--stack", "prod"]);
    expectExit(r, 0);
    const line = (label: string) => r.stdout.split("\n").find((l) => l.trimStart().startsWith(label)) ?? "";
    assert.match(
      r.stdout,
      /^Stack prod: the monthly always-on baseline\nPrices of 2026-11-30 \(model\/cost\/prices\.ts\), USD, 730 hours a month\./,
    );
    assert.match(
      r.stdout,
      /api {2,}europe-west1 {2,}tier 1 {2,}request-based {2,}2 {2,}2 vCPU, 1 GiB {2,}\$39\.42/,
    );
    assert.match(
      r.stdout,
      /api {2,}europe-west4 {2,}tier 1 {2,}request-based {2,}2 {2,}2 vCPU, 1 GiB {2,}\$39\.42/,
    );
    assert.match(line("worker"), /\$26\.28$/);
    assert.match(line("load balancer"), /2 forwarding rules +\$18\.25$/);
    assert.match(line("Cloud Armor"), /1 policy, 10 rules +\$15\.00$/);
    assert.match(line("total"), /\$138\.37$/);
    assert.match(r.stdout, /Not estimated: anything traffic drives/);
  });

  it("--json prints the documented document", async () => {
    const r = await runInProcess(ROOT, ["cost", "--stack", "prod", "--json"]);
    expectExit(r, 0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown> & { services: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(doc), [
      "stack",
      "currency",
      "priceTableDate",
      "hoursPerMonth",
      "services",
      "balancer",
      "armor",
      "totalUsd",
      "complete",
      "assumptions",
    ]);
    assert.deepEqual(
      [doc.stack, doc.currency, doc.priceTableDate, doc.hoursPerMonth, doc.totalUsd, doc.complete],
      ["prod", "USD", "2026-11-30", 730, 138.37, true],
    );
    assert.deepEqual(doc.services[0], {
      service: "api",
      monthlyUsd: 78.84,
      incomplete: false,
      regions: ["europe-west1", "europe-west4"].map((region) => ({
        region,
        tier: "tier1",
        billing: "request",
        instances: 2,
        cpu: 2,
        memoryGiB: 1,
        cpuUsd: 26.28,
        memoryUsd: 13.14,
        monthlyUsd: 39.42,
      })),
    });
    assert.deepEqual(doc.balancer, { forwardingRules: 2, monthlyUsd: 18.25 });
    assert.deepEqual(doc.armor, { policies: 1, rules: 10, monthlyUsd: 15 });
  });

  it("a region without a price is named, and the total is a lower bound", async () => {
    const project = makeTempProject({
      stacks: {
        prod: (text) => text.replace("    - europe-west4\n", "    - europe-west4\n    - mars-north1\n"),
      },
    });
    const r = await runInProcess(project.dir, ["cost", "--stack", "prod"]);
    expectExit(r, 0);
    assert.match(r.stdout, /api {2,}mars-north1 {2,}\? .*unpriced/);
    assert.match(r.stdout, /total {2,}at least \$138\.37/);
    assert.match(r.stdout, /warning: api in mars-north1 is not in the price table/);
    const json = JSON.parse(
      (await runInProcess(project.dir, ["cost", "--stack", "prod", "--json"])).stdout,
    ) as {
      complete: boolean;
    };
    assert.equal(json.complete, false);
  });

  it("an unknown stack is an error that names the stacks there are", async () => {
    const r = await runInProcess(ROOT, ["cost", "--stack", "qa"]);
    expectExit(r, 1);
    assert.match(r.stderr, /Pulumi\.qa\.yaml/);
    assert.match(r.stderr, /dev, prod, staging|dev.*prod.*staging/s);
    assert.equal(r.stdout, "");
  });
});
