import { z } from "zod";
import { BINARY_AUTHORIZATION_DEFAULTS, type BinaryAuthorizationConfig } from "../model/supplyChain";
import { fix } from "./errors";

/** `ai-orchestra:binaryAuthorization`: the attestor, its KMS key, and the project's policy (docs/supply-chain.md). */

const resourceId = (what: string, example: string) =>
  z
    .string({ error: fix(`must be ${what}.`, `e.g. \`${example}\`.`) })
    .regex(/^[a-z][a-z0-9-]{0,61}[a-z0-9]$/, {
      error: fix(
        `must be ${what}: lowercase letters, digits and '-', starting with a letter, 2-63 characters.`,
        `e.g. \`${example}\`.`,
      ),
    });

export const binaryAuthorizationSchema = z
  .strictObject({
    enabled: z
      .boolean({ error: fix("must be true or false.", "`enabled: true` to require attested images.") })
      .default(false)
      .describe(
        "Declare the attestor, its KMS key and the project's Binary Authorization policy, and make every Cloud Run service of the stack require it.",
      ),
    attestor: resourceId("an attestor id", BINARY_AUTHORIZATION_DEFAULTS.attestor)
      .default(BINARY_AUTHORIZATION_DEFAULTS.attestor)
      .describe("Id of the attestor and of its Container Analysis note."),
    keyRing: resourceId("a Cloud KMS key ring id", BINARY_AUTHORIZATION_DEFAULTS.keyRing)
      .default(BINARY_AUTHORIZATION_DEFAULTS.keyRing)
      .describe("Cloud KMS key ring of the attestor's signing key (created by the program)."),
    keyLocation: z
      .string({ error: fix("must be a Cloud KMS location.", "`global` or a region such as `europe-west1`.") })
      .regex(/^(global|[a-z]+(-[a-z]+)*\d*(-[a-z]+\d+)?)$/, {
        error: fix("must be a Cloud KMS location.", "`global` or a region such as `europe-west1`."),
      })
      .default(BINARY_AUTHORIZATION_DEFAULTS.keyLocation)
      .describe("Location of the key ring."),
  })
  .describe(
    "Binary Authorization: an attestor backed by a Cloud KMS signing key, the project's policy requiring it for Cloud Run, and services that only run attested images (docs/supply-chain.md). Unset: off.",
  );

export function toBinaryAuthorization(
  b: z.output<typeof binaryAuthorizationSchema>,
): BinaryAuthorizationConfig {
  return { enabled: b.enabled, attestor: b.attestor, keyRing: b.keyRing, keyLocation: b.keyLocation };
}
