/** The gcp provider's own config keys, so that `gcp:regoin` is caught as a typo. */
export function gcpConfigKeys(): string[] {
  // Loaded on demand: the provider's config module pulls in the Pulumi SDK (~0.5 s).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return Object.keys(require("@pulumi/gcp/config/vars"));
}
