import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import envPaths from "env-paths";

/**
 * Where orchestra keeps per-user state (history, the last token check): ORCHESTRA_STATE_DIR if set,
 * else the platform's state folder: $XDG_STATE_HOME/orchestra (default ~/.local/state/orchestra) on
 * Linux, ~/Library/Logs/orchestra on macOS, %LOCALAPPDATA%\orchestra\Log on Windows.
 */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ORCHESTRA_STATE_DIR) return path.resolve(env.ORCHESTRA_STATE_DIR);
  return envPaths("orchestra", { suffix: "" }).log;
}

export function ensureStateDir(): string {
  const dir = stateDir();
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** What the last `auth check` learnt about the token's expiry; never the token itself. */
export interface TokenMemo {
  readonly checkedAt: string;
  readonly kind: string;
  readonly source: string;
  readonly expiresAt?: string;
  /** `tokenFingerprint` of the checked token: which token the expiry belongs to, never the token. */
  readonly fingerprint?: string;
}

/** A one-way, shortened hash of a token: enough to tell tokens apart, useless to call GitHub with. */
export function tokenFingerprint(token: string): string {
  return createHash("sha256").update(`orchestra-token-memo:${token}`).digest("hex").slice(0, 16);
}

const MEMO = "last-token-check.json";

export function readTokenMemo(): TokenMemo | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(stateDir(), MEMO), "utf8")) as TokenMemo;
  } catch {
    return undefined;
  }
}

export function writeTokenMemo(memo: TokenMemo): void {
  try {
    fs.writeFileSync(path.join(ensureStateDir(), MEMO), `${JSON.stringify(memo)}\n`, { mode: 0o600 });
  } catch {
    // State is a convenience: a read-only home must not fail the command.
  }
}
