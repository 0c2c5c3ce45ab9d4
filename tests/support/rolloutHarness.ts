import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Interval, RegionSides, Side } from "../../model/judgment/input";
import type {
  Clock,
  IntervalQuery,
  IntervalRead,
  IntervalSource,
  PulumiDriver,
  UpRequest,
} from "../../cli/rollout/ports";
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

/** How a revision in the stand-in serves: its 5xx and 4xx ratios and its latency spread over PROFILE_BOUNDS. */
export interface Profile {
  readonly errorRatio: number;
  readonly clientErrorRatio?: number;
  /** Relative weights of the buckets <50, 50-100, 100-200, 200-400 and >=400 ms. */
  readonly shape: readonly number[];
}
export const PROFILE_BOUNDS = [50, 100, 200, 400];
export const NORMAL_SHAPE = [30, 50, 15, 5, 0];
export const SLOW_SHAPE = [5, 25, 40, 25, 5];

/** What `requests` requests of a revision with profile `p` look like: exact counts, no noise. */
export function sideOf(requests: number, p: Profile): Side {
  const e5 = Math.round(requests * p.errorRatio);
  const e4 = Math.round(requests * (p.clientErrorRatio ?? 0));
  const weight = p.shape.reduce((a, b) => a + b, 0);
  const counts = p.shape.map((w) => Math.floor((w / weight) * requests));
  const widest = p.shape.indexOf(Math.max(...p.shape));
  counts[widest] += requests - counts.reduce((a, b) => a + b, 0);
  return {
    requests: { "2xx": requests - e5 - e4, "3xx": 0, "4xx": e4, "5xx": e5 },
    latencies: {
      count: requests,
      bucketOptions: { explicitBuckets: { bounds: PROFILE_BOUNDS } },
      bucketCounts: counts,
    },
  };
}

/**
 * One interval as the stand-in Cloud Run served it: in each region, each revision gets its share of
 * `total` requests as the region's traffic split gives it, served with its role's profile.
 */
export function standInInterval(
  serving: (region: string) => Record<string, number>,
  regions: readonly string[],
  revisions: IntervalQuery["revisions"],
  profile: (role: "canary" | "stable" | "baseline") => Profile,
  total = 10_000,
): Interval {
  const side = (region: string, role: "canary" | "stable" | "baseline", revision: string | undefined) =>
    sideOf(Math.round(((serving(region)[revision ?? ""] ?? 0) * total) / 100), profile(role));
  return {
    regions: Object.fromEntries(
      regions.map((region): [string, RegionSides] => [
        region,
        {
          canary: side(region, "canary", revisions.canary),
          stable: side(region, "stable", revisions.stable),
          ...(revisions.baseline ? { baseline: side(region, "baseline", revisions.baseline) } : {}),
        },
      ]),
    ),
  };
}

/** The query of one read as URL parameters, and back: what the stand-in metrics servers receive. */
export function intervalQueryOf(url: string): Pick<IntervalQuery, "regions" | "revisions"> {
  const q = new URL(url, "http://x").searchParams;
  return {
    regions: (q.get("regions") ?? "").split(",").filter(Boolean),
    revisions: {
      canary: q.get("canary") ?? "",
      ...(q.get("stable") ? { stable: q.get("stable")! } : {}),
      ...(q.get("baseline") ? { baseline: q.get("baseline")! } : {}),
    },
  };
}

/**
 * An interval source reading `GET /interval?regions=&canary=&stable=&baseline=&start=&end=` as JSON (the
 * interval): used only in tests. An error status is thrown the way the Monitoring client throws it:
 * with the gRPC code.
 */
export class HttpIntervalSource implements IntervalSource {
  constructor(private readonly base: string) {}
  async read(q: IntervalQuery): Promise<IntervalRead> {
    const u = new URL("/interval", this.base);
    u.searchParams.set("regions", q.regions.join(","));
    for (const [role, revision] of Object.entries(q.revisions))
      if (revision) u.searchParams.set(role, revision);
    u.searchParams.set("start", q.start.toISOString());
    u.searchParams.set("end", q.end.toISOString());
    const res = await fetch(u);
    if (!res.ok) {
      const [code, status] = GRPC[res.status] ?? [2, "UNKNOWN"];
      throw Object.assign(new Error(`${code} ${status}: ${await res.text()}`), { code });
    }
    return {
      interval: (await res.json()) as Interval,
      window: { start: q.start, end: q.end },
      incomplete: [],
    };
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
