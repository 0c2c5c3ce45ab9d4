import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import { serve } from "./localServer";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { makeTempProject, type TempProject, type TempProjectOptions } from "./cliHarness";

/**
 * Stand-ins for what orchestra talks to: the GitHub API (a local HTTP server), the `pulumi` and
 * `docker` CLIs (scripts on PATH) and a git repository (a temp project under `git init`).
 */

const tempDirs: string[] = [];

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export function cleanupToolDirs(): void {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** How the fake API answers one token. */
export interface FakeToken {
  /** Status and body of GET /user (or GET /installation/repositories for app tokens). */
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Per path (below the API prefix): status and headers of probe requests; default 200. */
  readonly probes?: Readonly<Record<string, { status: number; headers?: Record<string, string> }>>;
}

export interface FakeGitHub {
  /** GITHUB_API_URL for orchestra, with an Enterprise-style `/api/v3` prefix. */
  readonly url: string;
  /** Every request, as `METHOD /path` below the prefix. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** A GitHub API on 127.0.0.1 that answers by the token in the Authorization header. */
export async function startFakeGitHub(tokens: Readonly<Record<string, FakeToken>>): Promise<FakeGitHub> {
  const requests: string[] = [];
  const { url, close } = await serve((req, res) => {
    const url = req.url ?? "";
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    if (!url.startsWith("/api/v3/")) return send(404, { message: `not under /api/v3: ${url}` });
    const p = url.slice("/api/v3".length).split("?")[0];
    requests.push(`${req.method} ${p}`);
    const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? "")?.[1] ?? "";
    const t = tokens[token];
    if (!t) return send(401, { message: "Bad credentials" });
    if (p === "/user" || p === "/installation/repositories") {
      return send(t.status ?? 200, t.body ?? { login: "octo-fake" }, t.headers);
    }
    const probe = t.probes?.[p];
    if (probe)
      return send(
        probe.status,
        { message: "Resource not accessible by personal access token" },
        probe.headers,
      );
    return send(200, {});
  });
  return { url: `${url}/api/v3`, requests, close };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `GitHub-Authentication-Token-Expiration` for a moment `days` from now. */
export function expirationHeader(days: number): string {
  return `${new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export interface StubTools {
  /** PATH holding only the stubs and git: never a real pulumi or docker. */
  readonly path: string;
  /** A fresh log file for one run: the stub appends its arguments, one invocation a line. */
  logFile(): string;
}

/**
 * `pulumi` and `docker` stubs. pulumi logs its arguments to $STUB_PULUMI_LOG, answers `version` and
 * `whoami --json` (or fails when $STUB_PULUMI_LOGGED_OUT is set) and exits $STUB_PULUMI_EXIT otherwise.
 */
export function makeStubTools(options: { pulumi?: boolean } = {}): StubTools {
  const bin = tempDir("orchestra-stubs-");
  if (options.pulumi !== false) {
    fs.writeFileSync(
      path.join(bin, "pulumi"),
      `#!/bin/sh
printf '%s\\n' "$*" >> "\${STUB_PULUMI_LOG:-/dev/null}"
case "$1" in
  version) echo v3.999.0-stub ;;
  whoami)
    if [ -n "$STUB_PULUMI_LOGGED_OUT" ]; then echo "error: PULUMI_ACCESS_TOKEN must be set for login" >&2; exit 255; fi
    echo '{"user":"stub-user","organizations":[],"url":"gs://stub-state"}' ;;
  *) exit "\${STUB_PULUMI_EXIT:-0}" ;;
esac
`,
      { mode: 0o755 },
    );
  }
  fs.writeFileSync(path.join(bin, "docker"), "#!/bin/sh\necho 27.0.0-stub\n", { mode: 0o755 });
  const git = spawnSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).stdout.trim();
  fs.symlinkSync(git, path.join(bin, "git"));
  const logs = tempDir("orchestra-stub-logs-");
  let n = 0;
  return {
    path: bin,
    logFile: () => path.join(logs, `run-${n++}.log`),
  };
}

export function readLog(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

function git(dir: string, ...args: string[]): string {
  const r = spawnSync("git", args, {
    cwd: dir,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "Test",
      GIT_AUTHOR_EMAIL: "test@example.invalid",
      GIT_COMMITTER_NAME: "Test",
      GIT_COMMITTER_EMAIL: "test@example.invalid",
    },
  });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** A temp project under git: everything committed on `main`, then optionally a branch checked out. */
export function makeGitProject(options: TempProjectOptions & { branch?: string } = {}): TempProject & {
  git: (...args: string[]) => string;
} {
  const project = makeTempProject(options);
  fs.writeFileSync(path.join(project.dir, ".gitignore"), "node_modules\n");
  git(project.dir, "init", "--quiet", "--initial-branch=main");
  git(project.dir, "add", "--all");
  git(project.dir, "commit", "--quiet", "-m", "stacks");
  if (options.branch) git(project.dir, "checkout", "--quiet", "-b", options.branch);
  return Object.assign(project, { git: (...args: string[]) => git(project.dir, ...args) });
}
