import { PolicyPack } from "@pulumi/policy";
import { buildPolicies } from "./pack";
import { loadPackContext } from "./packContext";

// `pulumi preview --policy-pack policy` runs this pack; `orchestra plan` runs the same rules offline.
new PolicyPack("ai-orchestra-guardrails", {
  description: "AI Orchestra's guardrails for Cloud Run, monitoring and CI/CD (docs/guardrails.md).",
  policies: buildPolicies(() => loadPackContext()),
});
