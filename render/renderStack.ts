import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { withoutStackTraces } from "./callSites";
import { OfflineMocks } from "./offlineMocks";
import { readProjectFile, readStackConfig } from "./stackFile";

/** One resource as the program declared it. */
export interface RenderedResource {
  /** Pulumi type token, e.g. `gcp:cloudrunv2/service:Service`. */
  readonly type: string;
  readonly name: string;
  /** Name of the parent resource; absent for top-level components (whose parent is the stack). */
  readonly parent?: string;
  /** Inputs as the program sent them to the engine, secrets redacted. */
  readonly inputs: Record<string, unknown>;
  /** Set when the resource is replaced by deleting it first (GitHub secrets: a name cannot exist twice). */
  readonly deleteBeforeReplace?: true;
}

export interface RenderedStack {
  readonly stack: string;
  readonly resources: readonly RenderedResource[];
  /** Stack outputs, as the program exported them (computed values are offline stand-ins). */
  readonly outputs: Record<string, unknown>;
  /** Warnings the program logged. */
  readonly warnings: readonly string[];
}

export interface RenderOptions {
  /** Folder holding Pulumi.yaml and the stack files. */
  readonly dir: string;
  readonly stack: string;
  /** Config to use instead of reading `Pulumi.<stack>.yaml`, as Pulumi would hand it to the program. */
  readonly config?: {
    readonly flat: Record<string, string>;
    readonly secretKeys?: readonly string[];
    /** The project's name, when already read from Pulumi.yaml. */
    readonly project?: string;
  };
  /** Program entry point; default `<dir>/index.ts`. */
  readonly program?: string;
}

/** Pulumi's wire marker for a secret value (sdk/nodejs/runtime/rpc.ts). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";
export const REDACTED = "[secret]";

/** `value` with every secret replaced by `[secret]`; parts holding no secret are returned as they are. */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = redactSecrets(value[i]);
      if (v !== value[i]) (copy ??= [...value])[i] = v;
    }
    return copy ?? value;
  }
  if (value && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SECRET_SIG] === SECRET_VALUE) return REDACTED;
    let copy: Record<string, unknown> | undefined;
    for (const k of Object.keys(obj)) {
      const v = redactSecrets(obj[k]);
      if (v !== obj[k]) (copy ??= { ...obj })[k] = v;
    }
    return copy ?? obj;
  }
  return value;
}

/**
 * Runs the real program in-process against Pulumi's mocks, with a stack's config, and returns what it
 * declares. No Pulumi CLI, provider plugin or cloud credential is involved. One render at a time per
 * process: the Pulumi runtime is global.
 */
export async function renderStack(options: RenderOptions): Promise<RenderedStack> {
  const dir = path.resolve(options.dir);
  const config = options.config ?? readStackConfig(dir, options.stack);
  const project = config.project ?? readProjectFile(dir).name;
  const program = options.program ?? path.join(dir, "index.ts");

  const resources: RenderedResource[] = [];
  // Parent and delete-first flag of each resource, by `type::name`, noted when it is declared (the
  // engine hears of it later, with its inputs).
  const parents = new Map<string, string>();
  const deleteFirst = new Set<string>();
  const declarationOrder = new Map<string, number>();
  const warnings: string[] = [];
  const mocks = new OfflineMocks();
  const recorder: pulumi.runtime.Mocks = {
    call: (args) => mocks.call(args),
    newResource: (args) => {
      if (args.type !== "pulumi:pulumi:Stack") {
        const key = `${args.type}::${args.name}`;
        resources.push({
          type: args.type,
          name: args.name,
          parent: parents.get(key),
          // Deserialized afresh for each call: nothing else holds this object.
          inputs: redactSecrets(args.inputs) as Record<string, unknown>,
          ...(deleteFirst.has(key) ? { deleteBeforeReplace: true as const } : {}),
        });
      }
      return mocks.newResource(args);
    },
  };

  await pulumi.runtime.setMocks(recorder, project, options.stack, false);
  pulumi.runtime.setAllConfig(config.flat, [...(config.secretKeys ?? [])]);
  forgetProgram(program);

  const restoreWarn = captureWarnings(warnings);
  let outputs: Record<string, unknown>;
  try {
    outputs = await withoutStackTraces(async () => {
      const exported =
        (await pulumi.runtime.runInPulumiStack(async () => {
          pulumi.runtime.registerStackTransformation((args) => {
            declarationOrder.set(`${args.type}::${args.name}`, declarationOrder.size);
            const parent = args.opts.parent;
            if (parent) parents.set(`${args.type}::${args.name}`, pulumi.resourceName(parent));
            if ((args.opts as pulumi.CustomResourceOptions).deleteBeforeReplace)
              deleteFirst.add(`${args.type}::${args.name}`);
            return undefined;
          });
          // require, not import(): forgetProgram clears require's cache, and the module loader keeps its own.
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          return { ...require(program) };
        })) ?? {};
      // Resources nothing exported depends on (IAM bindings) may still be registering.
      await pulumi.runtime.disconnect();
      return exported;
    });
  } finally {
    restoreWarn();
  }

  return {
    stack: options.stack,
    // In the order the program declared them: the engine hears of them in an order that depends on
    // how their inputs resolve.
    resources: resources.sort(
      (a, b) =>
        (declarationOrder.get(`${a.type}::${a.name}`) ?? 0) -
        (declarationOrder.get(`${b.type}::${b.name}`) ?? 0),
    ),
    outputs: redactSecrets(JSON.parse(JSON.stringify(outputs))) as Record<string, unknown>,
    warnings,
  };
}

/**
 * Drops the program's entry point from the require cache, so each render runs it afresh. The modules it
 * imports stay loaded: they are pure, and `orchestra plan` has already loaded most of them.
 */
function forgetProgram(program: string): void {
  delete require.cache[require.resolve(program)];
}

/** Collects `pulumi.log.warn` output, which under mocks would otherwise go to the console. */
function captureWarnings(into: string[]): () => void {
  const original = pulumi.log.warn;
  (pulumi.log as { warn: typeof pulumi.log.warn }).warn = async (msg: string) => {
    into.push(msg);
  };
  return () => {
    (pulumi.log as { warn: typeof pulumi.log.warn }).warn = original;
  };
}
