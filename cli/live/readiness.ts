import { revisionReadiness, type RevisionReadiness } from "../../model/live";
import { AdminApiLiveCloudRun } from "./liveCloudRun";

/**
 * Reads from the Cloud Run Admin API, in each region, whether `revision` is ready: the proof a staged
 * canary needs before the traffic list may name it.
 */
export async function readRevisionReadiness(args: {
  readonly project: string;
  readonly service: string;
  readonly revision: string;
  readonly regions: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
}): Promise<RevisionReadiness> {
  const read = await new AdminApiLiveCloudRun(args.project, args.env).read(args.service, args.regions);
  return revisionReadiness(args.revision, read.regions);
}
