import { PassThroughClient } from "google-auth-library";
import type { CloudRunClientOptions } from "./cloudRunAdmin";
import { CliError } from "../output";

/** Env var naming a Cloud Run Admin API emulator, `http://HOST:PORT`, like Pub/Sub's emulator host. */
export const CLOUD_RUN_ENDPOINT_ENV = "ORCHESTRA_CLOUD_RUN_ENDPOINT";

/**
 * Client options from the environment: Google's endpoint with Application Default Credentials, or an
 * emulator at `ORCHESTRA_CLOUD_RUN_ENDPOINT`, spoken to over plain HTTP with no credentials. A bad
 * value is refused before any request is made.
 */
export function cloudRunClientOptions(
  env: Readonly<Record<string, string | undefined>> = process.env,
): CloudRunClientOptions | undefined {
  const raw = env[CLOUD_RUN_ENDPOINT_ENV];
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(
      `${CLOUD_RUN_ENDPOINT_ENV}="${raw}" is not a URL; set it to http://HOST:PORT or unset it.`,
    );
  }
  if (url.protocol !== "http:")
    throw new CliError(
      `${CLOUD_RUN_ENDPOINT_ENV} must be an http:// emulator address (got ${raw}); unset it to use Google's API.`,
    );
  return {
    fallback: true,
    apiEndpoint: url.hostname,
    port: Number(url.port || 80),
    protocol: "http",
    authClient: new PassThroughClient(),
  };
}
