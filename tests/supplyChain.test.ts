import * as assert from "node:assert/strict";
import { breakglassPolicy } from "../components/monitoring/breakglassAlert";
import { checkAlertPolicy } from "../components/monitoring/limits";
import { RULES, UNKNOWN, type PolicyResource, type RuleContext } from "../policy/rules";
import { appliesIn, runRule } from "../policy/rules/run";
import {
  attestorNames,
  binaryAuthorizationGap,
  BINARY_AUTHORIZATION_DEFAULTS,
  breakglassLogFilter,
  imagesToAttest,
  scanningGap,
  serviceBinaryAuthorization,
} from "../model/supplyChain";
import { attestationTargets } from "../scripts/attestation-targets";
import { docBlock } from "./support/docs";
import { parse as parseYaml } from "yaml";
import type { RenderedStack } from "../render/renderStack";
import { readStackConfig } from "../render/stackFile";
import {
  baseConfig,
  byName,
  ofType,
  renderRepoStack,
  renderWithConfig,
  ROOT,
  validate,
} from "./support/render";

const SERVICE = "gcp:cloudrunv2/service:Service";
const ctx = (environment: RuleContext["environment"]): RuleContext => ({
  stack: environment,
  environment,
  maxCanaryPercent: 50,
  publicServices: [],
  plainSecretConfig: [],
});
const rule = (id: string) => RULES.find((r) => r.id === id)!;
const violations = (id: string, r: PolicyResource, environment: RuleContext["environment"] = "prod") =>
  runRule(rule(id), [r], ctx(environment)).violations.map((v) => v.message);
const service = (props: Record<string, unknown>): PolicyResource => ({
  type: SERVICE,
  name: "api-service",
  props: { name: "api", ...props },
});
const repository = (props: Record<string, unknown>): PolicyResource => ({
  type: "gcp:artifactregistry/repository:Repository",
  name: "registry-repository",
  props: { repositoryId: "orchestra", format: "DOCKER", ...props },
});

describe("supply chain: decisions", () => {
  it("a service requires the project's policy only with Binary Authorization, with break-glass while set", () => {
    assert.equal(serviceBinaryAuthorization(false), undefined);
    assert.equal(serviceBinaryAuthorization(false, "incident INC-1: hotfix"), undefined);
    assert.deepEqual(serviceBinaryAuthorization(true), { useDefault: true });
    assert.deepEqual(serviceBinaryAuthorization(true, "incident INC-1: hotfix"), {
      useDefault: true,
      breakglassJustification: "incident INC-1: hotfix",
    });
  });

  it("names the attestor, note and key version as gcloud takes them", () => {
    assert.deepEqual(attestorNames("p-prod", { enabled: true, ...BINARY_AUTHORIZATION_DEFAULTS }), {
      attestor: "projects/p-prod/attestors/release-verified",
      note: "projects/p-prod/notes/release-verified",
      key: "projects/p-prod/locations/global/keyRings/binauthz/cryptoKeys/attestor",
      keyVersion:
        "projects/p-prod/locations/global/keyRings/binauthz/cryptoKeys/attestor/cryptoKeyVersions/1",
    });
  });

  it("the break-glass filter reads Cloud Run's audit entries that carry a justification or name break-glass", () => {
    const filter = breakglassLogFilter();
    assert.match(filter, /^protoPayload\.@type="type\.googleapis\.com\/google\.cloud\.audit\.AuditLog" AND /);
    assert.match(filter, / AND protoPayload\.serviceName="run\.googleapis\.com" AND \(/);
    // Any one of the three places is enough.
    const alternatives = /\((.*)\)$/.exec(filter)![1].split(" OR ");
    assert.deepEqual(alternatives, [
      "protoPayload.request.service.binaryAuthorization.breakglassJustification:*",
      'protoPayload.request.metadata.annotations."run.googleapis.com/binary-authorization-breakglass":*',
      'protoPayload.status.message:"breakglass"',
    ]);
  });

  it("the gaps: what a service or repository lacks", () => {
    assert.equal(binaryAuthorizationGap({ useDefault: true }), undefined);
    assert.equal(binaryAuthorizationGap({ policy: "projects/p/platforms/cloudRun/policies/x" }), undefined);
    assert.match(binaryAuthorizationGap(undefined)!, /does not set binaryAuthorization/);
    assert.match(binaryAuthorizationGap({ useDefault: false })!, /without useDefault/);
    assert.equal(scanningGap({ enablementConfig: "INHERITED" }), undefined);
    assert.match(scanningGap({ enablementConfig: "DISABLED" })!, /turns vulnerability scanning off/);
    assert.match(scanningGap(undefined)!, /does not set/);
  });

  it("the break-glass alert pages, limits its notifications, and is within Monitoring's limits", () => {
    const policy = breakglassPolicy({ stack: "prod", autoCloseSeconds: 1800 });
    assert.equal(policy.route, "page");
    assert.equal(policy.severity, "CRITICAL");
    assert.deepEqual(policy.conditions[0].conditionMatchedLog, { filter: breakglassLogFilter() });
    assert.deepEqual(checkAlertPolicy(policy), []);
    // Monitoring refuses a log-match policy without a notification rate limit.
    assert.deepEqual(checkAlertPolicy({ ...policy, alertStrategy: { autoClose: "1800s" } }), [
      "condition 0: a log-match policy needs alertStrategy.notificationRateLimit.period",
    ]);
  });
});

describe("supply chain: what the deploy attests", () => {
  const image = (seed: string) =>
    `${"europe-west1-docker.pkg.dev/p/orchestra/api"}@sha256:${seed.repeat(64)}`;

  it("each service's stable and canary image, once each; a tag cannot be attested", () => {
    assert.deepEqual(
      imagesToAttest([
        { name: "api", stable: { image: image("a") }, canary: { image: image("b") } },
        { name: "worker", stable: { image: image("a") } },
        { name: "built", stable: {} },
      ]),
      [image("a"), image("b")],
    );
    assert.throws(
      () => imagesToAttest([{ name: "api", stable: { image: "europe-west1-docker.pkg.dev/p/o/api:v1" } }]),
      /api runs europe-west1-docker\.pkg\.dev\/p\/o\/api:v1, a tag: only an image by digest can be attested/,
    );
  });

  it("prod's targets are its stack file's images with its attestor and key version; dev has none", () => {
    const prod = attestationTargets("prod");
    const file = readStackConfig(ROOT, "prod").flat;
    const services = JSON.parse(file["ai-orchestra:services"]) as Record<
      string,
      { stable: { image: string }; canary?: { image: string } }
    >;
    const named = Object.values(services).flatMap((s) => [
      s.stable.image,
      ...(s.canary ? [s.canary.image] : []),
    ]);
    assert.deepEqual(prod.images, [...new Set(named)]);
    assert.equal(prod.attestor, "projects/ai-orchestra-prod/attestors/release-verified");
    assert.equal(
      prod.keyVersion,
      "projects/ai-orchestra-prod/locations/global/keyRings/binauthz/cryptoKeys/attestor/cryptoKeyVersions/1",
    );
    assert.deepEqual(attestationTargets("dev"), { images: [] });
  });
});

describe("supply chain: config", () => {
  it("the docs' break-glass example is valid in prod, and warns", () => {
    const example = docBlock('breakglassJustification: "INC-1234', "yaml");
    assert.ok(example, "docs/supply-chain.md shows break-glass");
    const api = parseYaml(example)["ai-orchestra:services"].api;
    const file = readStackConfig(ROOT, "prod").flat;
    const services = JSON.parse(file["ai-orchestra:services"]);
    services.api = { ...services.api, ...api };
    const r = validate("prod", { ...file, "ai-orchestra:services": JSON.stringify(services) });
    assert.ok(r.ok, r.ok ? "" : JSON.stringify(r.issues));
    assert.ok(r.warnings.some((w) => w.includes("api.breakglassJustification is set")));
  });

  const flat = (service: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
    baseConfig(service, extra);

  it("off unless set; on with its defaults when enabled", () => {
    const off = validate("prod", flat());
    assert.ok(off.ok);
    assert.equal(off.config.binaryAuthorization, undefined);
    const on = validate("prod", flat({}, { "ai-orchestra:binaryAuthorization": { enabled: true } }));
    assert.ok(on.ok);
    assert.deepEqual(on.config.binaryAuthorization, { enabled: true, ...BINARY_AUTHORIZATION_DEFAULTS });
  });

  it("break-glass is refused without Binary Authorization, and needs a reason", () => {
    const refused = validate("prod", flat({ breakglassJustification: "incident INC-1: hotfix" }));
    assert.ok(!refused.ok);
    assert.equal(refused.issues[0].path, "ai-orchestra:services.api.breakglassJustification");
    assert.match(refused.issues[0].message, /only allowed while the stack requires Binary Authorization/);
    assert.match(refused.issues[0].message, /Fix: remove it\./);

    const short = validate(
      "prod",
      flat({ breakglassJustification: "x" }, { "ai-orchestra:binaryAuthorization": { enabled: true } }),
    );
    assert.ok(!short.ok);
    assert.match(short.issues[0].message, /at least 10 characters/);
  });

  it("break-glass while on is accepted, with a warning that it stays until removed", () => {
    const r = validate(
      "prod",
      flat(
        { breakglassJustification: "incident INC-1: hotfix" },
        { "ai-orchestra:binaryAuthorization": { enabled: true } },
      ),
    );
    assert.ok(r.ok);
    assert.equal(r.config.services[0].breakglassJustification, "incident INC-1: hotfix");
    assert.ok(r.warnings.some((w) => /breakglassJustification is set: every deploy of api bypasses/.test(w)));
  });

  it("a mistyped key under binaryAuthorization is named", () => {
    const r = validate("prod", flat({}, { "ai-orchestra:binaryAuthorization": { enabeld: true } }));
    assert.ok(!r.ok);
    assert.match(r.issues[0].path, /binaryAuthorization\.enabeld/);
  });
});

describe("supply chain: guardrails", () => {
  it("binary-authorization: prod services must require the policy; other environments are not checked", () => {
    assert.deepEqual(
      violations("binary-authorization", service({ binaryAuthorization: { useDefault: true } })),
      [],
    );
    assert.deepEqual(violations("binary-authorization", service({})), [
      "api does not set binaryAuthorization: any image can run in prod, attested or not.",
    ]);
    assert.equal(
      violations("binary-authorization", service({ binaryAuthorization: { useDefault: false } })).length,
      1,
    );
    assert.ok(appliesIn(rule("binary-authorization"), ctx("prod")));
    assert.ok(!appliesIn(rule("binary-authorization"), ctx("dev")));
    assert.ok(!appliesIn(rule("binary-authorization"), ctx("staging")));
  });

  it("registry-scanning: Docker repositories scan in every environment", () => {
    assert.ok(["dev", "staging", "prod"].every((e) => appliesIn(rule("registry-scanning"), ctx(e as "dev"))));
    assert.deepEqual(
      violations(
        "registry-scanning",
        repository({ vulnerabilityScanningConfig: { enablementConfig: "INHERITED" } }),
        "dev",
      ),
      [],
    );
    assert.deepEqual(violations("registry-scanning", repository({}), "dev"), [
      "repository orchestra does not set vulnerabilityScanningConfig.enablementConfig: INHERITED: its images have no findings, and the vulnerability gate cannot pass them.",
    ]);
    assert.equal(
      violations(
        "registry-scanning",
        repository({ vulnerabilityScanningConfig: { enablementConfig: "DISABLED" } }),
      ).length,
      1,
    );
    assert.deepEqual(violations("registry-scanning", repository({ format: "NPM" })), []);
  });

  it("an unknown binaryAuthorization skips rather than fails", () => {
    const outcome = runRule(
      rule("binary-authorization"),
      [service({ binaryAuthorization: UNKNOWN })],
      ctx("prod"),
    );
    assert.deepEqual(outcome.violations, []);
    assert.equal(outcome.skipped.length, 1);
  });
});

describe("supply chain: the stack files", () => {
  const stacks: Record<string, RenderedStack> = {};
  let prodOff: RenderedStack;
  before(async () => {
    for (const s of ["dev", "staging", "prod"]) stacks[s] = await renderRepoStack(s);
    const file = readStackConfig(ROOT, "prod");
    const without = Object.fromEntries(
      Object.entries(file.flat).filter(([key]) => key !== "ai-orchestra:binaryAuthorization"),
    );
    prodOff = await renderWithConfig("prod", without, file.secretKeys);
  });

  it("prod declares the key, attestor and policy, and every Cloud Run service requires it", () => {
    const prod = stacks.prod;
    assert.equal(ofType(prod, "gcp:kms/cryptoKey:CryptoKey").length, 1);
    assert.equal(ofType(prod, "gcp:binaryauthorization/attestor:Attestor").length, 1);
    assert.equal(ofType(prod, "gcp:binaryauthorization/policy:Policy").length, 1);
    assert.equal(byName(prod, "binauthz-policy").inputs.project, "ai-orchestra-prod");
    const services = ofType(prod, SERVICE);
    assert.ok(services.length >= 3);
    for (const s of services) assert.deepEqual(s.inputs.binaryAuthorization, { useDefault: true }, s.name);
    assert.equal(byName(prod, "breakglass-policy").type, "gcp:monitoring/alertPolicy:AlertPolicy");
  });

  it("dev and staging declare none of it, and their services set no binaryAuthorization", () => {
    for (const s of ["dev", "staging"]) {
      const r = stacks[s];
      for (const type of [
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:binaryauthorization/attestor:Attestor",
        "gcp:binaryauthorization/policy:Policy",
      ])
        assert.equal(ofType(r, type).length, 0, `${s} ${type}`);
      for (const svc of ofType(r, SERVICE)) assert.equal(svc.inputs.binaryAuthorization, undefined);
      assert.ok(!r.resources.some((x) => x.name === "breakglass-policy"));
    }
  });

  it("every stack's registry scans", () => {
    for (const r of Object.values(stacks))
      assert.deepEqual(byName(r, "registry-repository").inputs.vulnerabilityScanningConfig, {
        enablementConfig: "INHERITED",
      });
  });

  it("turning Binary Authorization on changes no revision name or template in prod", () => {
    const templates = (r: RenderedStack) =>
      Object.fromEntries(ofType(r, SERVICE).map((s) => [s.name, [s.inputs.template, s.inputs.traffics]]));
    assert.deepEqual(templates(stacks.prod), templates(prodOff));
    assert.deepEqual(stacks.prod.outputs.serviceEndpoints, prodOff.outputs.serviceEndpoints);
    for (const s of ofType(prodOff, SERVICE)) assert.equal(s.inputs.binaryAuthorization, undefined);
  });
});
