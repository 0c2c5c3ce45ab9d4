import type { Environment } from "../../model/types";
import type { Level, RuleId } from "../../model/policy";

/**
 * One resource as both engines see it: the offline render's inputs, or the props the Pulumi policy
 * engine hands a policy pack. Values unknown during a preview are `UNKNOWN` (see values.ts).
 */
export interface PolicyResource {
  /** Pulumi type token, e.g. `gcp:cloudrunv2/service:Service`. */
  readonly type: string;
  /** Resource name (the Pulumi name, not the cloud one). */
  readonly name: string;
  /** URN, under the policy engine; absent offline. */
  readonly urn?: string;
  readonly props: Readonly<Record<string, unknown>>;
}

/** What the rules know about the stack beyond its resources. */
export interface RuleContext {
  readonly stack: string;
  readonly environment: Environment;
  /** Highest percent a canary may take. */
  readonly maxCanaryPercent: number;
  /** Cloud Run services the stack declares public (`allowUnauthenticated: true`). */
  readonly publicServices: readonly string[];
  /**
   * The stack file's config, as far as the secret-config rule needs it: config keys holding secrets in
   * plain text. Undefined when the stack file cannot be read (the rule then skips and says so).
   */
  readonly plainSecretConfig?: readonly { readonly key: string; readonly why: string }[];
}

/** A finding: which resource broke which rule, why, and what to do. */
export interface Violation {
  readonly rule: RuleId;
  /** Resource name; the stack name for stack-wide findings. */
  readonly resource: string;
  readonly urn?: string;
  readonly message: string;
  readonly fix: string;
}

/** A rule that could not decide, because a value is unknown until the update runs. */
export interface Skip {
  readonly rule: RuleId;
  readonly resource: string;
  readonly urn?: string;
  readonly reason: string;
}

export type Finding = Omit<Violation, "rule" | "resource" | "urn"> & { readonly resource?: PolicyResource };

interface RuleBase {
  readonly id: RuleId;
  /** One line: what the rule demands. */
  readonly description: string;
  /** Environments the rule applies in; default all. */
  readonly environments?: readonly Environment[];
}

/** Checks one resource at a time; `types` says which resources it reads. */
export interface ResourceRule extends RuleBase {
  readonly kind: "resource";
  readonly types: readonly string[];
  readonly check: (resource: PolicyResource, ctx: RuleContext) => Finding[];
}

/** Checks the stack as a whole (a service and its dashboard, the stack's config). */
export interface StackRule extends RuleBase {
  readonly kind: "stack";
  readonly check: (resources: readonly PolicyResource[], ctx: RuleContext) => Finding[];
}

export type Rule = ResourceRule | StackRule;

/** A violation with the level it has in this stack. */
export type LeveledViolation = Violation & { readonly level: Exclude<Level, "disabled"> };
