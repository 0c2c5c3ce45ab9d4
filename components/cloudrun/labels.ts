/** GCP label values: lowercase letters, digits, '_' and '-', at most 63 characters. */
export function labelValue(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "-")
    .slice(0, 63);
}

/** Labels every resource of a service carries: the stack's own, then where it came from. */
export function serviceLabels(
  stackLabels: Readonly<Record<string, string>>,
  stack: string,
  environment: string,
  service: string,
): Record<string, string> {
  return {
    ...stackLabels,
    "managed-by": "pulumi",
    "pulumi-stack": labelValue(stack),
    environment: labelValue(environment),
    service: labelValue(service),
  };
}
