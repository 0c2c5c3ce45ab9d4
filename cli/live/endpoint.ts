import type { PassThroughClient } from "google-auth-library";
import type { grpc } from "google-gax";
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
    authClient: noCredentials(),
  };
}

/** Env var naming a local Cloud Monitoring emulator, `HOST:PORT` or `http://HOST:PORT` (gRPC, no TLS). */
export const MONITORING_ENDPOINT_ENV = "ORCHESTRA_MONITORING_ENDPOINT";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * The emulator address an env var names, `HOST:PORT` or `http://HOST:PORT` on this machine; undefined
 * when it is unset. Emulators are spoken to without TLS or credentials,
 * so any other host is refused: sending a project's queries unencrypted anywhere else would be a leak.
 */
export function loopbackUrl(
  name: string,
  env: Readonly<Record<string, string | undefined>>,
): URL | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw.includes("://") ? raw : `http://${raw}`);
  } catch {
    throw new CliError(`${name}="${raw}" is not an address; set it to 127.0.0.1:PORT or unset it.`);
  }
  if (url.protocol !== "http:" || !url.port || !LOOPBACK.has(url.hostname) || url.pathname !== "/")
    throw new CliError(
      `${name} must name an emulator on this machine, 127.0.0.1:PORT or localhost:PORT ` +
        `(got ${raw}): it is spoken to without TLS. Unset it to use Google's API.`,
    );
  return url;
}

/** What `MetricServiceClient` needs to talk to an emulator: its address and no TLS, so no credentials. */
// A type, not an interface, so that it fits the client's options with their index signature.
export type MonitoringClientOptions = {
  readonly apiEndpoint: string;
  readonly port: number;
  readonly sslCreds: ReturnType<typeof grpc.credentials.createInsecure>;
  /** No credentials to look for (not even on a metadata server): the emulator takes none. */
  readonly authClient: PassThroughClient;
};

/**
 * Client options from the environment: Google's endpoint with Application Default Credentials, or an
 * emulator at `ORCHESTRA_MONITORING_ENDPOINT`. Plain-text gRPC is allowed only on this machine: sending
 * a project's queries unencrypted anywhere else would be a leak, so any other host is refused.
 */
export function monitoringClientOptions(
  env: Readonly<Record<string, string | undefined>> = process.env,
): MonitoringClientOptions | undefined {
  const url = loopbackUrl(MONITORING_ENDPOINT_ENV, env);
  if (!url) return undefined;
  return {
    apiEndpoint: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: Number(url.port),
    // Loaded here, not at the top: the commands that import this file without an emulator never need gax.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sslCreds: (require("google-gax") as typeof import("google-gax")).grpc.credentials.createInsecure(),
    authClient: noCredentials(),
  };
}

/**
 * An auth client that sends no credentials, for an emulator. Loaded on use: only a run against an
 * emulator needs it, and every command the CLI registers loads this module at start.
 */
function noCredentials(): PassThroughClient {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return new (require("google-auth-library") as typeof import("google-auth-library")).PassThroughClient();
}
