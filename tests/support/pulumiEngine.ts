import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { parse as parseYaml } from "yaml";
import * as analyzerrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import * as enginerpc from "@pulumi/pulumi/proto/engine_grpc_pb";
import * as engineproto from "@pulumi/pulumi/proto/engine_pb";
import * as providerproto from "@pulumi/pulumi/proto/provider_pb";
import * as resourcerpc from "@pulumi/pulumi/proto/resource_grpc_pb";
import * as resourceproto from "@pulumi/pulumi/proto/resource_pb";
import * as emptyproto from "google-protobuf/google/protobuf/empty_pb";
import * as structproto from "google-protobuf/google/protobuf/struct_pb";
import { OfflineMocks } from "../../render/offlineMocks";
import { readStackConfig } from "../../render/stackFile";

/**
 * The Pulumi CLI's side of a `pulumi preview`, on 127.0.0.1: an engine and a resource monitor speaking
 * the SDK's own gRPC services (`@pulumi/pulumi/proto/*_grpc_pb`), and the program started the way the
 * Node.js language host (pulumi-language-nodejs, `execRuntime`) starts it. What the CLI would do with
 * the answers (providers, state, diffs) is not here: the monitor answers a brand-new stack's preview,
 * where every resource is created and a provider's computed outputs are unknown.
 */

/** The wire markers of the SDK's serialized values (sdk/nodejs/runtime/rpc.ts). */
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_REFERENCE = "5cf8f73096256a8f31e491e813e4eb8e";
const OUTPUT_VALUE = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
/** The engine's unknown value: what a preview sends for anything not known until the update runs. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * The features SDK v3.248 asks the monitor about (`awaitFeatureSupport`), all supported, as by the engine
 * of the same release (`resmon.SupportsFeature`); anything else is not.
 */
const MONITOR_FEATURES = new Set([
  "secrets",
  "resourceReferences",
  "outputValues",
  "aliasSpecs",
  "deletedWith",
  "replaceWith",
  "transforms",
  "invokeTransforms",
  "parameterization",
  "resourceHooks",
  "errorHooks",
]);

const SEVERITIES = ["debug", "info", "warning", "error"] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface EngineLog {
  readonly severity: Severity;
  readonly message: string;
  readonly urn: string;
}

/** A resource as the program registered it with the monitor. */
export interface RegisteredResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly custom: boolean;
  /** URN of the parent; empty for the stack itself. */
  readonly parentUrn: string;
  /**
   * The inputs, as the engine holds them: output values resolved to their value (or `UNKNOWN`),
   * secrets still wrapped, resource references kept.
   */
  readonly inputs: Record<string, unknown>;
  readonly dependencies: readonly string[];
  readonly provider: string;
  /** The options a policy sees (`PolicyResourceOptions`); the program declares no aliases or timeouts. */
  readonly options: {
    readonly protect: boolean;
    readonly ignoreChanges: readonly string[];
    readonly deleteBeforeReplace?: boolean;
    readonly additionalSecretOutputs: readonly string[];
    readonly aliases: readonly string[];
  };
}

export interface EngineInvoke {
  readonly token: string;
  readonly args: Record<string, unknown>;
}

/** The name part of a URN (`urn:pulumi:STACK::PROJECT::TYPE::NAME`). */
export function urnName(urn: string): string {
  return urn.split("::").slice(3).join("::");
}

/** The qualified type part of a URN: the parent chain's types joined by `$`. */
function urnType(urn: string): string {
  return urn.split("::")[2] ?? "";
}

/** Output values as the engine keeps them in state: their value, else unknown; secret stays secret. */
export function engineValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(engineValue);
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG] === OUTPUT_VALUE) {
      const inner = "value" in obj ? engineValue(obj.value) : UNKNOWN;
      return obj.secret ? { [SIG]: SECRET, value: inner } : inner;
    }
    return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, engineValue(v)]));
  }
  return value;
}

/**
 * Properties as the engine hands them to a policy pack (`MarshalProperties` with unknowns and secrets
 * kept, resources not): a resource reference becomes its ID, or its URN when it has none, and an ID
 * not known during a preview is unknown. Internal keys (`__defaults`...) are dropped.
 */
export function analyzerValue(value: unknown, top = true): unknown {
  if (Array.isArray(value)) return value.map((v) => analyzerValue(v, false));
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG] === RESOURCE_REFERENCE) {
      if (!("id" in obj)) return obj.urn;
      return typeof obj.id === "string" && obj.id !== "" ? obj.id : UNKNOWN;
    }
    return Object.fromEntries(
      Object.entries(obj)
        .filter(([k]) => !(top && k.startsWith("__")))
        .map(([k, v]) => [k, analyzerValue(v, false)]),
    );
  }
  return value;
}

function toStruct(value: Record<string, unknown>): structproto.Struct {
  // Struct.fromJavaScript rejects `undefined`; the SDK never sends it either.
  return structproto.Struct.fromJavaScript(JSON.parse(JSON.stringify(value)));
}

function fromStruct(struct: structproto.Struct | undefined): Record<string, unknown> {
  return (struct?.toJavaScript() ?? {}) as Record<string, unknown>;
}

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

/** Answers a unary call with `answer`'s result, or its error as the gRPC status a Go server would send. */
function unary<Req, Res>(answer: (req: Req) => Res): Unary<Req, Res> {
  return (call, callback) => {
    try {
      callback(null, answer(call.request));
    } catch (e) {
      callback({ code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) });
    }
  };
}

function unimplemented(method: string): Unary<unknown, never> {
  return (_call, callback) =>
    callback({ code: grpc.status.UNIMPLEMENTED, details: `the test engine has no ${method}` });
}

export interface FakeEngineOptions {
  readonly project: string;
  readonly stack: string;
  /** Invoke results by token; default: the offline render's (render/offlineMocks.ts). */
  readonly invoke?: (token: string, args: Record<string, unknown>) => Record<string, unknown>;
}

/** An engine and resource monitor for one run of a program. */
export class FakeEngine {
  readonly resources: RegisteredResource[] = [];
  readonly logs: EngineLog[] = [];
  readonly invokes: EngineInvoke[] = [];
  /** Outputs registered per URN (the stack's are its stack outputs). */
  readonly outputs = new Map<string, Record<string, unknown>>();
  rootUrn = "";
  /** `host:port` of the engine and the monitor (one server serves both). */
  address = "";
  private readonly server = new grpc.Server({
    "grpc.max_receive_message_length": 400 * 1024 * 1024,
  });

  constructor(private readonly options: FakeEngineOptions) {
    const mocks = new OfflineMocks();
    const invoke =
      options.invoke ??
      ((token: string, args: Record<string, unknown>) =>
        mocks.call({ token, inputs: args, provider: "" } as Parameters<OfflineMocks["call"]>[0]));

    this.server.addService(enginerpc.EngineService, {
      log: unary((req: engineproto.LogRequest) => {
        this.logs.push({
          severity: SEVERITIES[req.getSeverity()] ?? "error",
          message: req.getMessage(),
          urn: req.getUrn(),
        });
        return new emptyproto.Empty();
      }),
      getRootResource: unary(() => new engineproto.GetRootResourceResponse().setUrn(this.rootUrn)),
      setRootResource: unary((req: engineproto.SetRootResourceRequest) => {
        this.rootUrn = req.getUrn();
        return new engineproto.SetRootResourceResponse();
      }),
      startDebugging: unimplemented("StartDebugging"),
      requirePulumiVersion: unary(() => new emptyproto.Empty()),
    } satisfies enginerpc.IEngineServer);

    this.server.addService(resourcerpc.ResourceMonitorService, {
      supportsFeature: unary((req: resourceproto.SupportsFeatureRequest) =>
        new resourceproto.SupportsFeatureResponse().setHassupport(MONITOR_FEATURES.has(req.getId())),
      ),
      registerResource: unary((req: resourceproto.RegisterResourceRequest) => this.register(req)),
      registerResourceOutputs: unary((req: resourceproto.RegisterResourceOutputsRequest) => {
        this.outputs.set(req.getUrn(), engineValue(fromStruct(req.getOutputs())) as Record<string, unknown>);
        return new emptyproto.Empty();
      }),
      invoke: unary((req: resourceproto.ResourceInvokeRequest) => {
        const args = engineValue(fromStruct(req.getArgs())) as Record<string, unknown>;
        this.invokes.push({ token: req.getTok(), args });
        return new providerproto.InvokeResponse().setReturn(toStruct(invoke(req.getTok(), args)));
      }),
      readResource: unary((req: resourceproto.ReadResourceRequest) => {
        const urn = this.urnOf(req.getType(), req.getName(), req.getParent());
        return new resourceproto.ReadResourceResponse().setUrn(urn).setProperties(req.getProperties());
      }),
      registerPackage: unary((req: resourceproto.RegisterPackageRequest) =>
        new resourceproto.RegisterPackageResponse().setRef(`${req.getName()}@${req.getVersion()}`),
      ),
      signalAndWaitForShutdown: unary(() => new emptyproto.Empty()),
      getDeploymentInfo: unimplemented("GetDeploymentInfo"),
      call: unimplemented("Call"),
      registerStackTransform: unimplemented("RegisterStackTransform"),
      registerStackInvokeTransform: unimplemented("RegisterStackInvokeTransform"),
      registerResourceHook: unimplemented("RegisterResourceHook"),
      registerErrorHook: unimplemented("RegisterErrorHook"),
    } satisfies resourcerpc.IResourceMonitorServer);
  }

  /** `urn:pulumi:STACK::PROJECT::QUALIFIED_TYPE::NAME`, the parent's type chain in front unless it is the stack. */
  urnOf(type: string, name: string, parentUrn: string): string {
    const parentType = parentUrn ? urnType(parentUrn) : "";
    const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
    return `urn:pulumi:${this.options.stack}::${this.options.project}::${qualified}::${name}`;
  }

  private register(req: resourceproto.RegisterResourceRequest): resourceproto.RegisterResourceResponse {
    const urn = this.urnOf(req.getType(), req.getName(), req.getParent());
    if (this.resources.some((r) => r.urn === urn)) throw new Error(`Duplicate resource URN '${urn}'`);
    const inputs = engineValue(fromStruct(req.getObject())) as Record<string, unknown>;
    this.resources.push({
      urn,
      type: req.getType(),
      name: req.getName(),
      custom: req.getCustom(),
      parentUrn: req.getParent(),
      inputs,
      dependencies: req.getDependenciesList(),
      provider: req.getProvider(),
      options: {
        protect: req.getProtect() ?? false,
        ignoreChanges: req.getIgnorechangesList(),
        ...(req.getDeletebeforereplacedefined() ? { deleteBeforeReplace: req.getDeletebeforereplace() } : {}),
        additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
        aliases: req.getAliasurnsList(),
      },
    });
    const res = new resourceproto.RegisterResourceResponse().setUrn(urn);
    // A create in a preview: no ID yet, and the provider's planned state is the inputs with every computed
    // output unknown; the SDK reads a property the answer leaves out as unknown during a preview.
    if (req.getCustom()) res.setId("").setObject(toStruct(inputs));
    return res;
  }

  start(): Promise<this> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
        if (err) return reject(err);
        this.address = `127.0.0.1:${port}`;
        resolve(this);
      }),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.tryShutdown(() => resolve()));
  }

  /** Warnings and errors the program logged through the engine. */
  problems(): EngineLog[] {
    return this.logs.filter((l) => l.severity === "warning" || l.severity === "error");
  }

  /** The stack's outputs, once the program registered them. */
  stackOutputs(): Record<string, unknown> | undefined {
    const stack = this.resources.find((r) => r.type === "pulumi:pulumi:Stack");
    return stack && this.outputs.get(stack.urn);
  }
}

/** Folders whose TypeScript the policy pack's build compiles (policy/tsconfig.json, rootDir the project). */
const PACK_SOURCES = ["policy", "config", "model", "render"];

/**
 * Builds the policy pack (`npm run build:policy`) when its compiled entry point is missing or older than
 * a source it is built from. `npm ci` builds it; an edit since may not have been.
 */
export function ensurePolicyPackBuilt(root: string): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "policy", "package.json"), "utf8")) as {
    main: string;
  };
  const main = path.join(root, "policy", pkg.main);
  const build = path.dirname(path.dirname(main));
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && file !== build) walk(file);
      } else if (file.endsWith(".ts")) newest = Math.max(newest, fs.statSync(file).mtimeMs);
    }
  };
  for (const dir of PACK_SOURCES) walk(path.join(root, dir));
  if (fs.existsSync(main) && fs.statSync(main).mtimeMs >= newest) return;
  execFileSync(process.platform === "win32" ? "npm.cmd" : "npm", ["run", "build:policy"], {
    cwd: root,
    stdio: "pipe",
  });
}

/** A stack's config as the CLI hands it over: `PROJECT:KEY` to string, and the keys holding secrets. */
export interface CliConfig {
  readonly flat: Record<string, string>;
  readonly secretKeys: readonly string[];
}

/**
 * `Pulumi.<stack>.yaml` with Pulumi.yaml's `config:` defaults merged in (render/stackFile.ts follows the
 * CLI's rules); `secure:` values, which only the CLI can decrypt, are stand-ins marked secret.
 */
export function cliConfig(dir: string, stack: string): CliConfig {
  const file = readStackConfig(dir, stack);
  return { flat: file.flat, secretKeys: file.secretKeys };
}

/**
 * `PULUMI_CONFIG` as the language host writes it for the program (`constructConfig`): each key
 * `NAMESPACE:NAME` becomes `NAMESPACE:config:NAME`, the old format the SDK still reads.
 */
export function languageHostConfig(flat: Record<string, string>): string {
  return JSON.stringify(
    Object.fromEntries(
      Object.entries(flat).map(([key, value]) => {
        const at = key.indexOf(":");
        return [`${key.slice(0, at)}:config:${key.slice(at + 1)}`, value];
      }),
    ),
  );
}

export interface ProgramRunOptions {
  /** The project folder: Pulumi.yaml, package.json, tsconfig.json, node_modules. */
  readonly dir: string;
  readonly project: string;
  readonly stack: string;
  readonly config: CliConfig;
  readonly organization?: string;
  /** `pulumi preview` (true, the default) or `pulumi up`. */
  readonly dryRun?: boolean;
  /** `pulumi preview --parallel`: how many resource operations the SDK runs at once; 16 here. */
  readonly parallel?: number;
  /** Extra environment, on top of this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** More of Node's own flags, after Pulumi.yaml's `nodeargs` (a profiler's, say). */
  readonly nodeArgs?: readonly string[];
}

/** What the Node.js language host takes from Pulumi.yaml's `runtime.options` to start the program. */
export interface LanguageHostLaunch {
  /** `nodeargs`, split into words: Node's flags, before the runtime's path. */
  readonly nodeArgs: readonly string[];
  /** `typescript` (default true): the language host sets `PULUMI_NODEJS_TYPESCRIPT=true`, and cmd/run registers ts-node. */
  readonly typescript: boolean;
}

/**
 * Pulumi.yaml's runtime options as pulumi-language-nodejs reads them (`parseOptions`, `execRuntime`):
 * `typescript` a boolean defaulting to true, `nodeargs` a string split with shlex. Only plain words
 * are split here; a `nodeargs` with quotes or escapes is refused rather than split differently.
 */
export function languageHostLaunch(dir: string): LanguageHostLaunch {
  const project = parseYaml(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as {
    runtime?: string | { options?: { typescript?: unknown; nodeargs?: unknown } };
  };
  const options = (typeof project.runtime === "object" && project.runtime.options) || {};
  const { typescript = true, nodeargs = "" } = options;
  if (typeof typescript !== "boolean")
    throw new Error("Pulumi.yaml: runtime.options.typescript must be a boolean");
  if (typeof nodeargs !== "string") throw new Error("Pulumi.yaml: runtime.options.nodeargs must be a string");
  if (/["'\\]/.test(nodeargs))
    throw new Error(
      `Pulumi.yaml: runtime.options.nodeargs ${JSON.stringify(nodeargs)}: quotes and escapes are not emulated here`,
    );
  return { typescript, nodeArgs: nodeargs.split(/\s+/).filter(Boolean) };
}

export interface ProgramRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the program's process, from spawn to exit. */
  readonly ms: number;
  readonly engine: FakeEngine;
}

/**
 * Runs the program as `pulumi preview` does: the language host resolves `@pulumi/pulumi/cmd/run` from
 * the program's folder and runs it with node in that folder, with Pulumi.yaml's `nodeargs` before it
 * and `PULUMI_NODEJS_TYPESCRIPT` as its `typescript` option says (languageHostLaunch), the monitor's and
 * engine's addresses and the stack's identity as flags, and the config in `PULUMI_CONFIG` /
 * `PULUMI_CONFIG_SECRET_KEYS`. `--sync` (the pipes for synchronous invokes) is left out: the SDK opens
 * them only for `invokeSync`, which the program does not use.
 */
export async function runProgram(options: ProgramRunOptions): Promise<ProgramRun> {
  const dir = path.resolve(options.dir);
  const launch = languageHostLaunch(dir);
  const engine = await new FakeEngine({ project: options.project, stack: options.stack }).start();
  const runPath = require.resolve("@pulumi/pulumi/cmd/run", { paths: [dir] });
  const args = [
    ...launch.nodeArgs,
    ...(options.nodeArgs ?? []),
    runPath,
    "--monitor",
    engine.address,
    "--engine",
    engine.address,
    "--organization",
    options.organization ?? "organization",
    "--project",
    options.project,
    "--root-directory",
    dir,
    "--stack",
    options.stack,
    "--pwd",
    dir,
    ...(options.dryRun === false ? [] : ["--dry-run"]),
    "--parallel",
    String(options.parallel ?? 16),
    // Pulumi.yaml names no `main`: the engine passes ".", and the runtime takes package.json's `main`.
    ".",
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    PULUMI_CONFIG: languageHostConfig(options.config.flat),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(options.config.secretKeys),
  };
  // The language host sets it only when the option is on; an inherited one would be seen all the same.
  if (launch.typescript) env.PULUMI_NODEJS_TYPESCRIPT = "true";
  else delete env.PULUMI_NODEJS_TYPESCRIPT;
  const start = process.hrtime.bigint();
  try {
    const done = await new Promise<Omit<ProgramRun, "engine" | "ms">>((resolve, reject) => {
      const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    return { ...done, ms: Number(process.hrtime.bigint() - start) / 1e6, engine };
  } finally {
    await engine.close();
  }
}

/** A run's outcome in one line per problem, for assertion messages. */
export function describeProgramRun(run: ProgramRun): string {
  return [
    `exit ${run.code}${run.signal ? ` (${run.signal})` : ""} after ${Math.round(run.ms)} ms`,
    ...run.engine.problems().map((l) => `${l.severity}: ${l.message}`),
    run.stderr.trim() && `stderr:\n${run.stderr.trim()}`,
    run.stdout.trim() && `stdout:\n${run.stdout.trim()}`,
  ]
    .filter(Boolean)
    .join("\n");
}

/** What a policy pack reported: its violations, and what did not apply and why. */
export interface PackVerdicts {
  readonly diagnostics: {
    readonly policy: string;
    readonly message: string;
    readonly urn: string;
    readonly level: "advisory" | "mandatory" | "disabled" | "remediate";
  }[];
  readonly notApplicable: { readonly policy: string; readonly reason: string }[];
}

const LEVELS = ["advisory", "mandatory", "disabled", "remediate"] as const;

function verdicts(res: analyzerproto.AnalyzeResponse): PackVerdicts {
  return {
    diagnostics: res.getDiagnosticsList().map((d) => ({
      policy: d.getPolicyname(),
      message: d.getMessage(),
      urn: d.getUrn(),
      level: LEVELS[d.getEnforcementlevel()],
    })),
    notApplicable: res
      .getNotApplicableList()
      .map((n) => ({ policy: n.getPolicyName(), reason: n.getReason() })),
  };
}

/** A resource's options as the engine sends them with each resource it asks a pack about. */
function analyzerOptions(r: RegisteredResource): analyzerproto.AnalyzerResourceOptions {
  return new analyzerproto.AnalyzerResourceOptions()
    .setProtect(r.options.protect)
    .setIgnorechangesList([...r.options.ignoreChanges])
    .setDeletebeforereplace(r.options.deleteBeforeReplace ?? false)
    .setDeletebeforereplacedefined(r.options.deleteBeforeReplace !== undefined)
    .setAdditionalsecretoutputsList([...r.options.additionalSecretOutputs])
    .setAliasesList([...r.options.aliases])
    .setCustomtimeouts(new analyzerproto.AnalyzerResourceOptions.CustomTimeouts())
    .setParent(r.parentUrn);
}

function call<Req, Res>(
  method: (req: Req, callback: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
  req: Req,
): Promise<Res> {
  return new Promise((resolve, reject) => method(req, (err, res) => (err ? reject(err) : resolve(res))));
}

export interface PolicyPackOptions {
  /** The pack's folder: PulumiPolicy.yaml, package.json. */
  readonly packDir: string;
  readonly project: string;
  readonly stack: string;
  readonly config: CliConfig;
  readonly organization?: string;
  readonly dryRun?: boolean;
}

/**
 * A policy pack started as `pulumi preview --policy-pack DIR` starts a Node.js pack (the CLI's
 * `NewPolicyAnalyzer`, which still takes the legacy path for nodejs): the `pulumi-analyzer-policy` shim
 * runs `@pulumi/pulumi/cmd/run-policy-pack`, resolved from the pack's folder, with the engine's address
 * and `.`, in the pack's folder, with the stack's config in `PULUMI_CONFIG` (keys `PROJECT:KEY`) and its
 * identity in `PULUMI_NODEJS_*` / `PULUMI_*`. The pack prints its port; the engine then handshakes and
 * configures the stack over the Analyzer service.
 */
export class PolicyPackProcess {
  /** Milliseconds from spawn to the port on stdout, and to the first answered AnalyzeStack. */
  readonly times: { port?: number; firstAnalyzeStack?: number } = {};
  stdout = "";
  stderr = "";
  private client?: analyzerrpc.AnalyzerClient;
  private child?: ReturnType<typeof spawn>;
  private exited?: Promise<number | null>;
  private readonly started = process.hrtime.bigint();

  constructor(
    private readonly options: PolicyPackOptions,
    private readonly engine: FakeEngine,
  ) {}

  private since(): number {
    return Number(process.hrtime.bigint() - this.started) / 1e6;
  }

  async start(): Promise<this> {
    const dir = path.resolve(this.options.packDir);
    const runPath = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [dir] });
    const dryRun = String(this.options.dryRun ?? true);
    const organization = this.options.organization ?? "organization";
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PULUMI_CONFIG: JSON.stringify(this.options.config.flat),
      PULUMI_NODEJS_ORGANIZATION: organization,
      PULUMI_NODEJS_PROJECT: this.options.project,
      PULUMI_NODEJS_STACK: this.options.stack,
      PULUMI_NODEJS_DRY_RUN: dryRun,
      PULUMI_ORGANIZATION: organization,
      PULUMI_PROJECT: this.options.project,
      PULUMI_STACK: this.options.stack,
      PULUMI_DRY_RUN: dryRun,
    };
    const child = spawn(process.execPath, [runPath, this.engine.address, "."], {
      cwd: dir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.on("close", (code) => resolve(code)));
    child.stderr.on("data", (d: Buffer) => (this.stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        this.stdout += d.toString();
        const line = /^(\d+)\r?\n/.exec(this.stdout);
        if (line) resolve(Number(line[1]));
      });
      void this.exited?.then((code) =>
        reject(new Error(`the policy pack exited (${code}) before printing its port\n${this.stderr}`)),
      );
    });
    this.times.port = this.since();
    this.client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      "grpc.max_receive_message_length": 400 * 1024 * 1024,
    });
    const client = this.client;
    try {
      const handshake = new analyzerproto.AnalyzerHandshakeRequest()
        .setEngineAddress(this.engine.address)
        .setRootDirectory(dir)
        .setProgramDirectory(dir);
      await call<analyzerproto.AnalyzerHandshakeRequest, analyzerproto.AnalyzerHandshakeResponse>(
        client.handshake.bind(client),
        handshake,
      );
    } catch (e) {
      // Packs built on @pulumi/policy predate Handshake; the engine goes on without it.
      if ((e as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw e;
    }
    const configure = new analyzerproto.AnalyzerStackConfigureRequest()
      .setStack(this.options.stack)
      .setProject(this.options.project)
      .setOrganization(organization)
      .setDryRun(this.options.dryRun ?? true)
      .setConfigSecretKeysList([...this.options.config.secretKeys]);
    for (const [k, v] of Object.entries(this.options.config.flat)) configure.getConfigMap().set(k, v);
    configure.getTagsMap().set("pulumi:project", this.options.project).set("pulumi:runtime", "nodejs");
    await call<analyzerproto.AnalyzerStackConfigureRequest, analyzerproto.AnalyzerStackConfigureResponse>(
      client.configureStack.bind(client),
      configure,
    );
    return this;
  }

  private get analyzer(): analyzerrpc.AnalyzerClient {
    if (!this.client) throw new Error("the policy pack is not started");
    return this.client;
  }

  /** The pack's name and policies, with each policy's enforcement level. */
  async info(): Promise<{ name: string; policies: { name: string; level: string }[] }> {
    const info = await call<emptyproto.Empty, analyzerproto.AnalyzerInfo>(
      this.analyzer.getAnalyzerInfo.bind(this.analyzer),
      new emptyproto.Empty(),
    );
    return {
      name: info.getName(),
      policies: info
        .getPoliciesList()
        .map((p) => ({ name: p.getName(), level: LEVELS[p.getEnforcementlevel()] })),
    };
  }

  /** What the engine asks of each resource as the preview reaches it: its inputs. */
  async analyze(resource: RegisteredResource): Promise<PackVerdicts> {
    const req = new analyzerproto.AnalyzeRequest()
      .setType(resource.type)
      .setName(resource.name)
      .setUrn(resource.urn)
      .setOptions(analyzerOptions(resource))
      .setProperties(toStruct(analyzerValue(resource.inputs) as Record<string, unknown>));
    return verdicts(
      await call<analyzerproto.AnalyzeRequest, analyzerproto.AnalyzeResponse>(
        this.analyzer.analyze.bind(this.analyzer),
        req,
      ),
    );
  }

  /** What the engine asks at the end of the preview: every resource, with its planned state. */
  async analyzeStack(resources: readonly RegisteredResource[]): Promise<PackVerdicts> {
    const req = new analyzerproto.AnalyzeStackRequest().setResourcesList(
      resources.map((r) =>
        new analyzerproto.AnalyzerResource()
          .setType(r.type)
          .setName(r.name)
          .setUrn(r.urn)
          .setOptions(analyzerOptions(r))
          .setParent(r.parentUrn)
          .setDependenciesList([...r.dependencies])
          .setProperties(
            toStruct(
              analyzerValue(r.custom ? r.inputs : (this.engine.outputs.get(r.urn) ?? {})) as Record<
                string,
                unknown
              >,
            ),
          ),
      ),
    );
    const res = verdicts(
      await call<analyzerproto.AnalyzeStackRequest, analyzerproto.AnalyzeResponse>(
        this.analyzer.analyzeStack.bind(this.analyzer),
        req,
      ),
    );
    this.times.firstAnalyzeStack ??= this.since();
    return res;
  }

  /** Stops the pack, as the engine does when the preview ends. */
  async stop(): Promise<void> {
    this.client?.close();
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    await this.exited;
  }
}

/** Starts a policy pack for a stack, with an engine beside it that the pack may log to. */
export async function startPolicyPack(options: PolicyPackOptions): Promise<PolicyPackProcess> {
  const engine = await new FakeEngine({ project: options.project, stack: options.stack }).start();
  const pack = new PolicyPackProcess(options, engine);
  const stop = pack.stop.bind(pack);
  pack.stop = async () => {
    await stop();
    await engine.close();
  };
  try {
    return await pack.start();
  } catch (e) {
    await pack.stop();
    throw e;
  }
}

/**
 * A preview's policy checks: Analyze for each resource as the engine registers it, then AnalyzeStack
 * over all of them. Diagnostics and not-applicable answers from every call, in that order.
 */
export async function analyzePreview(
  pack: PolicyPackProcess,
  resources: readonly RegisteredResource[],
): Promise<PackVerdicts> {
  const all: PackVerdicts[] = [];
  for (const r of resources) all.push(await pack.analyze(r));
  all.push(await pack.analyzeStack(resources));
  return {
    diagnostics: all.flatMap((v) => v.diagnostics),
    notApplicable: all.flatMap((v) => v.notApplicable),
  };
}

/**
 * `node --require @swc-node/register tests/support/pulumiEngine.ts preview --stack NAME`: one preview as the CLI
 * runs it, for `npm run bench`. Runs the program, then starts the policy pack and asks it AnalyzeStack
 * with the resources the program registered, and prints the times as JSON: the program's process from
 * spawn to exit, and the pack's from spawn to its port and to its first answered AnalyzeStack.
 */
async function main(argv: string[]): Promise<void> {
  const stack = argv[argv.indexOf("--stack") + 1];
  if (argv[0] !== "preview" || !argv.includes("--stack") || !stack)
    throw new Error("usage: pulumiEngine.ts preview --stack NAME");
  const root = path.resolve(__dirname, "..", "..");
  const project = "ai-orchestra";
  const config = cliConfig(root, stack);
  const run = await runProgram({ dir: root, project, stack, config });
  if (run.code !== 0) throw new Error(describeProgramRun(run));
  ensurePolicyPackBuilt(root);
  const pack = await startPolicyPack({ packDir: path.join(root, "policy"), project, stack, config });
  try {
    await pack.analyzeStack(run.engine.resources);
  } finally {
    await pack.stop();
  }
  const times = {
    programMs: Math.round(run.ms),
    resources: run.engine.resources.length,
    packPortMs: Math.round(pack.times.port ?? NaN),
    packFirstAnalyzeStackMs: Math.round(pack.times.firstAnalyzeStack ?? NaN),
  };
  process.stdout.write(`${JSON.stringify(times)}\n`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
