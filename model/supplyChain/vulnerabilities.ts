/**
 * The vulnerability gate: whether an image may become a canary, from what Artifact Analysis found in
 * it. Pure, so that `canary start`, `rollout` (and its dry run) and `image check` decide alike.
 */

/** Container Analysis severities, lowest first (grafeas.v1.Severity without SEVERITY_UNSPECIFIED). */
export const SEVERITIES = ["MINIMAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** What the gate does with a blocking finding: `refuse` stops the release, `warn` prints it and goes on. */
export const GATE_ACTIONS = ["refuse", "warn"] as const;
export type GateAction = (typeof GATE_ACTIONS)[number];

/** A stack's gate settings (`ai-orchestra:vulnerabilityGate`). */
export interface VulnerabilityGate {
  /** Fixable findings at or above this severity block. */
  readonly severity: Severity;
  readonly action: GateAction;
  /** How long to wait for findings that are not ready (a fresh push), in milliseconds. */
  readonly waitMs: number;
}

/** One vulnerability occurrence, as the gate reads it. */
export interface Finding {
  /** The vulnerability's id: the last part of its note name, e.g. `CVE-2024-3094`. */
  readonly id: string;
  /** The distro's (or language ecosystem's) severity when it has one, else the note's; undefined when neither. */
  readonly severity?: Severity;
  /** A fixed version is available. */
  readonly fixable: boolean;
  readonly package: string;
  readonly installedVersion?: string;
  /** The first version with the fix, when there is one. */
  readonly fixedVersion?: string;
}

/**
 * How far Artifact Analysis got with the image (its DISCOVERY occurrence's `analysisStatus`):
 * `pending` (no discovery occurrence yet, PENDING or SCANNING), `finished` (FINISHED_SUCCESS), or
 * `failed` (FINISHED_FAILED, FINISHED_UNSUPPORTED: no findings can be trusted).
 */
export type ScanStatus =
  | { readonly kind: "pending"; readonly status: string }
  | { readonly kind: "finished" }
  | { readonly kind: "failed"; readonly status: string; readonly detail?: string };

/** A release let through despite blocking findings, with the reason given (`--allow-vulnerable`). */
export interface GateOverride {
  readonly reason: string;
}

export type GateOutcome = "pass" | "wait" | "refuse" | "warn";

export interface GateVerdict {
  readonly outcome: GateOutcome;
  /** One line: why, naming the count and the threshold. */
  readonly reason: string;
  /** The findings that decided it (fixable, at or above the threshold), worst first. */
  readonly blocking: readonly Finding[];
  /** Set when an override turned a refusal into a pass: what it accepted. */
  readonly overridden?: { readonly reason: string; readonly findings: readonly string[] };
}

export const severityRank = (s: Severity | undefined): number => (s ? SEVERITIES.indexOf(s) : -1);

/** A finding blocks when a fix is available and its severity is at or above the threshold. */
export const blocks = (f: Finding, threshold: Severity): boolean =>
  f.fixable && severityRank(f.severity) >= severityRank(threshold);

const order = (a: Finding, b: Finding) =>
  severityRank(b.severity) - severityRank(a.severity) ||
  a.id.localeCompare(b.id) ||
  a.package.localeCompare(b.package);

/**
 * The gate's decision. Findings not ready mean `wait`, whatever the override; a failed scan and
 * blocking findings `refuse` (or `warn`, when that is the stack's action), unless an override with a
 * reason accepts them, which passes and names what it accepted. An unfixable finding never blocks:
 * nothing the release could do would remove it.
 */
export function decideGate(
  scan: ScanStatus,
  findings: readonly Finding[],
  gate: Pick<VulnerabilityGate, "severity" | "action">,
  override?: GateOverride,
): GateVerdict {
  if (scan.kind === "pending")
    return {
      outcome: "wait",
      reason: `vulnerability findings are not ready yet (scan: ${scan.status})`,
      blocking: [],
    };
  const blocking = findings.filter((f) => blocks(f, gate.severity)).sort(order);
  let reason: string;
  if (scan.kind === "failed") {
    reason = `the vulnerability scan ended ${scan.status}${scan.detail ? ` (${scan.detail})` : ""}, so its findings cannot be trusted`;
  } else if (blocking.length > 0) {
    reason = `${blocking.length} fixable ${blocking.length === 1 ? "vulnerability" : "vulnerabilities"} at or above ${gate.severity}`;
  } else {
    const below = findings.length;
    return {
      outcome: "pass",
      reason: `no fixable vulnerability at or above ${gate.severity}${below > 0 ? ` (${below} other ${below === 1 ? "finding" : "findings"})` : ""}`,
      blocking: [],
    };
  }
  const accepted = [...new Set(blocking.map((f) => f.id))];
  if (override && override.reason.trim() !== "")
    return {
      outcome: "pass",
      reason: `${reason}; allowed: ${override.reason.trim()}`,
      blocking,
      overridden: { reason: override.reason.trim(), findings: accepted },
    };
  return { outcome: gate.action === "warn" ? "warn" : "refuse", reason, blocking };
}

/** One line per blocking finding: `CRITICAL CVE-... in openssl 3.0.1 (fixed in 3.0.2)`. */
export function describeFinding(f: Finding): string {
  const installed = f.installedVersion ? ` ${f.installedVersion}` : "";
  const fixed = f.fixedVersion ? ` (fixed in ${f.fixedVersion})` : "";
  return `${f.severity ?? "UNSPECIFIED"} ${f.id} in ${f.package}${installed}${fixed}`;
}

/** What a canary records when it was let through despite blocking findings. */
export interface VulnerabilityOverrideRecord {
  readonly reason: string;
  readonly findings: readonly string[];
  /** ISO 8601. */
  readonly approvedAt: string;
}

/**
 * The digests a canary was approved under: the one Cloud Run runs (linux/amd64), and the index's when
 * the reference names a multi-platform index.
 */
export interface ApprovedDigests {
  readonly index?: string;
  readonly linuxAmd64: string;
}
