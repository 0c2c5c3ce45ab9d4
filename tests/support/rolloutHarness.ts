import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RevisionMetrics } from "../../cli/rollout/analysis";
import type { Clock, MetricsSource, PulumiDriver, UpRequest } from "../../cli/rollout/ports";
import type { PreflightProblem, PreflightReport } from "../../cli/rollout/preflight";
import type { StandInCloudRun } from "./rolloutCloud";
import { REPO_ROOT } from "./cliHarness";

/** A project folder with Pulumi.yaml and copies of the stack files, removed by the caller. */
export function tempProjectDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orchestra-rollout-"));
  for (const f of fs.readdirSync(REPO_ROOT)) {
    if (/^Pulumi(\.[\w-]+)?\.yaml$/.test(f)) fs.copyFileSync(path.join(REPO_ROOT, f), path.join(dir, f));
  }
  return dir;
}

export { serve } from "./localServer";

/** gRPC status codes and names, as Cloud Monitoring's client reports them (`code` on its errors). */
const GRPC: Record<number, [number, string]> = {
  403: [7, "PERMISSION_DENIED"],
  429: [8, "RESOURCE_EXHAUSTED"],
  503: [14, "UNAVAILABLE"],
  504: [4, "DEADLINE_EXCEEDED"],
};

/**
 * A metrics source reading `GET /metrics?service=&revision=&start=&end=` as JSON: used only in tests.
 * An error status is thrown the way the Monitoring client throws it: with the gRPC code.
 */
export class HttpMetricsSource implements MetricsSource {
  constructor(private readonly base: string) {}
  async revisionMetrics(q: {
    service: string;
    revision: string;
    start: Date;
    end: Date;
  }): Promise<RevisionMetrics> {
    const u = new URL("/metrics", this.base);
    u.searchParams.set("service", q.service);
    u.searchParams.set("revision", q.revision);
    u.searchParams.set("start", q.start.toISOString());
    u.searchParams.set("end", q.end.toISOString());
    const res = await fetch(u);
    if (!res.ok) {
      const [code, status] = GRPC[res.status] ?? [2, "UNKNOWN"];
      throw Object.assign(new Error(`${code} ${status}: ${await res.text()}`), { code });
    }
    return (await res.json()) as RevisionMetrics;
  }
}

/** Virtual time: sleeping advances it at once. */
export class FakeClock implements Clock {
  constructor(public t = Date.parse("2026-01-01T00:00:00Z")) {}
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
    await new Promise((r) => setImmediate(r));
  }
}

export interface FakePulumiOptions {
  /** The stack outputs after an `up` of this stack file text. */
  readonly outputs: (stackText: string, n: number) => Record<string, unknown>;
  /**
   * Runs before the stack is applied: it may throw (an update failing before Cloud Run is called) or
   * never resolve (an update still running when the process is killed).
   */
  readonly onUp?: (n: number, request: UpRequest) => void | Promise<void>;
  /** Where an `up` lands: the stand-in Cloud Run, which may refuse it (a failed revision). */
  readonly cloud?: StandInCloudRun;
  /** What preflight finds wrong; default nothing. */
  readonly problems?: readonly PreflightProblem[];
}

/**
 * The Automation API stand-in: records the stack file each `up` applies (the copy in the work folder),
 * applies it to the stand-in Cloud Run and returns outputs computed from it.
 */
export class FakePulumi implements PulumiDriver {
  readonly ups: string[] = [];
  readonly workDirs: string[] = [];
  preflights = 0;
  constructor(private readonly o: FakePulumiOptions) {}
  async preflight(): Promise<PreflightReport> {
    this.preflights++;
    return { problems: this.o.problems ?? [], notes: ["Pulumi CLI v3.248.0 (stand-in)"] };
  }
  async up(request: UpRequest): Promise<Record<string, unknown>> {
    this.ups.push(fs.readFileSync(path.join(request.workDir, `Pulumi.${request.stack}.yaml`), "utf8"));
    this.workDirs.push(request.workDir);
    request.onOutput("Updating (stand-in)");
    await this.o.onUp?.(this.ups.length, request);
    try {
      this.o.cloud?.apply(request.workDir, request.stack);
    } catch (e) {
      throw commandError(diagnostics(request.stack, (e as Error).message), "error: update failed\n");
    }
    return this.o.outputs(this.ups[this.ups.length - 1], this.ups.length);
  }
}

/** `pulumi up`'s report of failed resources, as the CLI prints it on stdout. */
function diagnostics(stack: string, failures: string): string {
  const blocks = failures.split("\n").map((f) => {
    const [resource, message] = f.split(": error: ");
    return (
      `  ${resource}:\n    error: 1 error occurred:\n` +
      `    \t* updating urn:pulumi:${stack}::ai-orchestra::gcp:cloudrunv2/service:Service::x: 1 error occurred:\n` +
      `    \t* Error waiting to update Service: Error waiting for Updating Service: Error code 9, message: ${message}\n`
    );
  });
  return `Updating (${stack})\n\nDiagnostics:\n${blocks.join("")}  pulumi:pulumi:Stack (ai-orchestra-${stack}):\n    error: update failed\n`;
}

/** An error shaped like the Automation API's CommandError: the CLI's transcript, kept as `commandResult`. */
export function commandError(stdout: string, stderr: string, code = 255): Error {
  const result = { stdout, stderr, code };
  return Object.assign(new Error(`code: ${code}\n stdout: ${stdout}\n stderr: ${stderr}\n err?: \n`), {
    name: "CommandError",
    commandResult: result,
  });
}
