import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { RevisionMetrics } from "../../cli/rollout/analysis";
import type { Clock, MetricsSource, PulumiDriver, UpRequest } from "../../cli/rollout/ports";
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

/** A metrics source reading `GET /metrics?service=&revision=&start=&end=` as JSON: used only in tests. */
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
    if (!res.ok) throw new Error(`metrics ${res.status}`);
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

/**
 * The Automation API stand-in: records the stack file each `up` applies (the copy in the work folder)
 * and returns outputs computed from it. `onUp` runs before the outputs are returned: it may throw (a
 * failed update) or never resolve (an update still running when the process is killed).
 */
export class FakePulumi implements PulumiDriver {
  readonly ups: string[] = [];
  readonly workDirs: string[] = [];
  constructor(
    private readonly outputs: (stackText: string, n: number) => Record<string, unknown>,
    private readonly onUp?: (n: number, request: UpRequest) => void | Promise<void>,
  ) {}
  async up(request: UpRequest): Promise<Record<string, unknown>> {
    this.ups.push(fs.readFileSync(path.join(request.workDir, `Pulumi.${request.stack}.yaml`), "utf8"));
    this.workDirs.push(request.workDir);
    request.onOutput("Updating (stand-in)");
    await this.onUp?.(this.ups.length, request);
    return this.outputs(this.ups[this.ups.length - 1], this.ups.length);
  }
}
