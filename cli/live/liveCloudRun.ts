import type { LiveServiceRead } from "../../model/live";
import type { CloudRunClientOptions, LiveReadRetry } from "./cloudRunAdmin";
import { cloudRunClientOptions } from "./endpoint";

/**
 * A project's Cloud Run services as the Admin API v2 (`@google-cloud/run`) reports them, with
 * Application Default Credentials or at the emulator `ORCHESTRA_CLOUD_RUN_ENDPOINT` names. The one
 * reader of `canary status --live`, `canary set` and the rollout (its `LiveCloudRun` port).
 */
export class AdminApiLiveCloudRun {
  private readonly clientOptions: CloudRunClientOptions | undefined;

  constructor(
    private readonly project: string,
    env: Readonly<Record<string, string | undefined>> = process.env,
    private readonly retry?: Partial<LiveReadRetry>,
  ) {
    this.clientOptions = cloudRunClientOptions(env);
  }

  read(service: string, regions: readonly string[]): Promise<LiveServiceRead> {
    // Loaded on use, as the rollout loads its clients: every command is registered at start, and
    // the Google clients cost a plan most of a second it never uses them for.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { readServiceState } = require("./cloudRunAdmin") as typeof import("./cloudRunAdmin");
    return readServiceState({
      project: this.project,
      service,
      regions,
      ...(this.clientOptions ? { clientOptions: this.clientOptions } : {}),
      ...(this.retry ? { retry: this.retry } : {}),
    });
  }
}
