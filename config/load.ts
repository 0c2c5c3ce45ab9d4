import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./errors";
import { gcpConfigKeys } from "./gcpKeys";
import type { StackConfig } from "../model/types";
import { validateStackConfig } from "./validate";

/**
 * Reads and validates the whole stack config before anything is declared. A bad config stops the
 * program with a RunError, which Pulumi prints without a stack trace.
 */
export function loadStackConfig(): StackConfig {
  const stack = pulumi.getStack();
  const result = validateStackConfig(stack, pulumi.runtime.allConfig(), { gcpKeys: gcpConfigKeys });
  if (!result.ok) throw new pulumi.RunError(new ConfigError(stack, result.issues).message);
  for (const warning of result.warnings) void pulumi.log.warn(warning);
  return result.config;
}
