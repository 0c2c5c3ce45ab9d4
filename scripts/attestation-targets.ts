/**
 * Prints what the deploy workflow attests for Binary Authorization in a stack, as JSON:
 * `{"attestor": "projects/P/attestors/ID", "keyVersion": "projects/P/locations/.../cryptoKeyVersions/1",
 *   "images": ["REPOSITORY@sha256:...", ...]}`; `{"images": []}` when the stack does not require it.
 *   node --require @swc-node/register scripts/attestation-targets.ts STACK
 */
import { validateStackConfig } from "../config/validate";
import { attestorNames, imagesToAttest } from "../model/supplyChain";
import { readStackConfig } from "../render/stackFile";
import { ROOT } from "./workflows";

export function attestationTargets(
  stack: string,
  dir: string = ROOT,
): { attestor?: string; keyVersion?: string; images: string[] } {
  const result = validateStackConfig(stack, readStackConfig(dir, stack).flat);
  if (!result.ok)
    throw new Error(`Pulumi.${stack}.yaml is not valid; run \`orchestra plan --stack ${stack}\`.`);
  const settings = result.config.binaryAuthorization;
  if (!settings?.enabled) return { images: [] };
  const names = attestorNames(result.config.project, settings);
  return {
    attestor: names.attestor,
    keyVersion: names.keyVersion,
    images: imagesToAttest(result.config.services),
  };
}

if (require.main === module) {
  const stack = process.argv[2];
  if (!stack) {
    process.stderr.write("usage: node --require @swc-node/register scripts/attestation-targets.ts STACK\n");
    process.exit(2);
  }
  try {
    process.stdout.write(`${JSON.stringify(attestationTargets(stack))}\n`);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(1);
  }
}
