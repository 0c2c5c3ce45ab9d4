import type { Command } from "@commander-js/extra-typings";
import { allowVulnerableOption, jsonOption, requiredStackOption } from "./options";
import * as image from "../supplyChain/imageCheck";
import { CONTAINER_ANALYSIS_ENDPOINT_ENV, REGISTRY_ENDPOINT_ENV } from "../supplyChain/scan";

export function registerImage(program: Command): void {
  const cmd = program.command("image").description("Check container images before they are released");
  cmd
    .command("check")
    .description(
      "Run the stack's vulnerability gate on an image: exit 0 on pass or warn, 1 on refuse or not ready",
    )
    .addOption(requiredStackOption("stack whose ai-orchestra:vulnerabilityGate applies"))
    .requiredOption(
      "--image <ref>",
      "the image, REPOSITORY@sha256:DIGEST (a multi-platform index is gated on its linux/amd64 image)",
    )
    .addOption(allowVulnerableOption())
    .addOption(
      jsonOption(
        "{image, outcome: pass|warn|refuse|not-ready, reason, severity, action, digests: {index?, linuxAmd64}, resourceUrl, findings, override?, waitedMs}",
      ),
    )
    .addHelpText(
      "after",
      "\nThe reference is resolved in its registry (registry v2 API) to the digest Cloud Run runs (linux/amd64),\n" +
        "whose findings are read from Container Analysis; findings not ready (a fresh push) are waited for up to\n" +
        "the stack's `wait`, then refused. Credentials: Application Default Credentials with\n" +
        "roles/containeranalysis.occurrences.viewer and roles/artifactregistry.reader. Emulators:\n" +
        `${CONTAINER_ANALYSIS_ENDPOINT_ENV}=127.0.0.1:PORT, ${REGISTRY_ENDPOINT_ENV}=http://127.0.0.1:PORT.`,
    )
    .action(async (opts) => image.check(opts));
}
