import type { LiveServiceRead } from "../../model/live";
import { readServiceState, type CloudRunClientOptions, type LiveReadRetry } from "../live/cloudRunAdmin";
import { cloudRunClientOptions } from "../live/endpoint";
import type { LiveCloudRun } from "./ports";

/**
 * The production live reader: the Cloud Run Admin API v2 (`@google-cloud/run`) with Application
 * Default Credentials, or the emulator `ORCHESTRA_CLOUD_RUN_ENDPOINT` names.
 */
export class AdminApiLiveCloudRun implements LiveCloudRun {
  private readonly clientOptions: CloudRunClientOptions | undefined;

  constructor(
    private readonly project: string,
    env: Readonly<Record<string, string | undefined>> = process.env,
    private readonly retry?: Partial<LiveReadRetry>,
  ) {
    this.clientOptions = cloudRunClientOptions(env);
  }

  read(service: string, regions: readonly string[]): Promise<LiveServiceRead> {
    return readServiceState({
      project: this.project,
      service,
      regions,
      ...(this.clientOptions ? { clientOptions: this.clientOptions } : {}),
      ...(this.retry ? { retry: this.retry } : {}),
    });
  }
}
