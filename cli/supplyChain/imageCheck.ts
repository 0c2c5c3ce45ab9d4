import { describeFinding } from "../../model/supplyChain/vulnerabilities";
import { color, errColor, printJson, projectDir } from "../output";
import { loadValidStack } from "../stackEditor";
import { gateSources, runGate, type GateResult, type GateSources } from "./gate";

/** The `--json` document of `orchestra image check` (docs/cli.md). */
export function checkJson(r: GateResult) {
  return {
    image: r.image,
    outcome: r.outcome,
    reason: r.reason,
    severity: r.severity,
    action: r.action,
    digests: r.digests,
    resourceUrl: r.resourceUrl,
    findings: r.verdict.blocking.map((f) => ({
      id: f.id,
      severity: f.severity ?? null,
      package: f.package,
      installedVersion: f.installedVersion ?? null,
      fixedVersion: f.fixedVersion ?? null,
    })),
    ...(r.verdict.overridden ? { override: r.verdict.overridden } : {}),
    waitedMs: r.waitedMs,
  };
}

/**
 * `orchestra image check`: the stack's gate on one image, changing nothing. Exit 0 on pass or warn,
 * 1 on refuse or findings not ready (the release workflow stops there).
 */
export async function check(
  opts: { stack: string; image: string; allowVulnerable?: string; json?: boolean },
  sources: GateSources = gateSources(),
): Promise<void> {
  const { config } = loadValidStack(projectDir(), opts.stack);
  const result = await runGate(config, opts.image, sources, {
    ...(opts.allowVulnerable ? { override: opts.allowVulnerable } : {}),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const ok = result.outcome === "pass" || result.outcome === "warn";
  if (!ok) process.exitCode = 1;
  if (opts.json) return printJson(checkJson(result));
  const mark =
    result.outcome === "pass"
      ? color.green("✓ pass")
      : result.outcome === "warn"
        ? color.yellow("! warn")
        : color.red("✗ " + result.outcome);
  const lines = [
    `${mark}: ${result.image} on ${opts.stack}: ${result.reason}.`,
    ...result.verdict.blocking.map((f) => `  ${describeFinding(f)}`),
    `  digests   ${result.digests.index ? `index ${result.digests.index}, ` : ""}linux/amd64 ${result.digests.linuxAmd64}`,
    `  gate      fixable ${result.severity} and above: ${result.action} (ai-orchestra:vulnerabilityGate)`,
  ];
  if (result.outcome === "warn")
    process.stderr.write(
      `${errColor.yellow("warning:")} the gate only warns on ${opts.stack}; the image would be refused where it refuses.\n`,
    );
  process.stdout.write(`${lines.join("\n")}\n`);
}
