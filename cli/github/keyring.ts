/**
 * The OS keyring (macOS Keychain, Windows Credential Manager, the Secret Service on Linux) through
 * `@napi-rs/keyring`. It may be missing, e.g. on CI without a D-Bus secret service: every call then
 * reports that instead of throwing. ORCHESTRA_NO_KEYRING=1 turns it off (tests never touch a real one).
 */

const SERVICE = "orchestra";
const ACCOUNT = "github-token";

export type KeyringResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export function keyringDisabled(): boolean {
  return process.env.ORCHESTRA_NO_KEYRING === "1";
}

async function entry() {
  const { AsyncEntry } = await import("@napi-rs/keyring");
  return new AsyncEntry(SERVICE, ACCOUNT);
}

export async function readKeyringToken(): Promise<string | undefined> {
  if (keyringDisabled()) return undefined;
  try {
    return (await (await entry()).getPassword()) ?? undefined;
  } catch {
    return undefined;
  }
}

export async function storeKeyringToken(token: string): Promise<KeyringResult> {
  if (keyringDisabled()) return { ok: false, reason: "the keyring is turned off (ORCHESTRA_NO_KEYRING=1)" };
  try {
    await (await entry()).setPassword(token);
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

export async function deleteKeyringToken(): Promise<KeyringResult> {
  if (keyringDisabled()) return { ok: false, reason: "the keyring is turned off (ORCHESTRA_NO_KEYRING=1)" };
  try {
    await (await entry()).deletePassword();
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

export type TokenSourceName = "GITHUB_TOKEN" | "GH_TOKEN" | "keyring";

/** The token to use: GITHUB_TOKEN, then GH_TOKEN (as the GitHub CLI reads them), then the keyring. */
export async function findToken(): Promise<{ token: string; source: TokenSourceName } | undefined> {
  for (const name of ["GITHUB_TOKEN", "GH_TOKEN"] as const) {
    const value = process.env[name]?.trim();
    if (value) return { token: value, source: name };
  }
  const stored = await readKeyringToken();
  return stored ? { token: stored, source: "keyring" } : undefined;
}
