import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./errors";
import type { StackConfig } from "./types";
import { validateStackConfig } from "./validate";

/** The gcp provider's own config keys, so that `gcp:regoin` is caught as a typo. */
export function gcpConfigKeys(): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return Object.keys(require("@pulumi/gcp/config/vars"));
}

/**
 * Reads and validates the whole stack config before anything is declared. A bad config stops the
 * program with a RunError, which Pulumi prints without a stack trace.
 */
export function loadStackConfig(): StackConfig {
  const stack = pulumi.getStack();
  const result = validateStackConfig(stack, pulumi.runtime.allConfig(), { gcpKeys: gcpConfigKeys() });
  if (!result.ok) throw new pulumi.RunError(new ConfigError(stack, result.issues).message);
  for (const warning of result.warnings) void pulumi.log.warn(warning);
  return result.config;
}
