import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

/** The project number offline renders pretend to have; real runs read it from GCP. */
export const OFFLINE_PROJECT_NUMBER = "123456789012";

/** A stable numeric-looking id derived from a resource name, as the API would assign one. */
const offlineId = (seed: string) =>
  BigInt(`0x${createHash("sha256").update(seed).digest("hex").slice(0, 15)}`).toString();

const fakeDigest = (seed: string) => `sha256:${createHash("sha256").update(seed).digest("hex")}`;

/**
 * Fills in what a provider would compute (URLs, emails, digests), so outputs read like a real stack's.
 * Inputs pass through untouched: they are what the program sends to the engine.
 */
export class OfflineMocks implements pulumi.runtime.Mocks {
  newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
    const inputs = args.inputs as Record<string, unknown>;
    const state: Record<string, unknown> = { ...inputs };
    switch (args.type) {
      case "gcp:cloudrunv2/service:Service": {
        const name = String(inputs.name ?? args.name);
        const host = `${name}-${OFFLINE_PROJECT_NUMBER}.${String(inputs.location)}.run.app`;
        const template = inputs.template as { revision?: string } | undefined;
        const traffics =
          (inputs.traffics as { tag?: string; revision?: string; percent?: number; type?: string }[]) ?? [];
        state.uri = `https://${host}`;
        state.latestCreatedRevision = template?.revision;
        state.latestReadyRevision = template?.revision;
        state.trafficStatuses = traffics.map((t) => ({
          ...t,
          uri: t.tag ? `https://${t.tag}---${host}` : "",
        }));
        state.terminalCondition = { type: "Ready", state: "CONDITION_SUCCEEDED" };
        break;
      }
      case "gcp:serviceaccount/account:Account":
        state.email = `${String(inputs.accountId)}@${String(inputs.project)}.iam.gserviceaccount.com`;
        state.uniqueId = "100000000000000000000";
        state.name = `projects/${String(inputs.project)}/serviceAccounts/${String(state.email)}`;
        break;
      case "gcp:iam/workloadIdentityPool:WorkloadIdentityPool":
        state.name = `projects/${OFFLINE_PROJECT_NUMBER}/locations/global/workloadIdentityPools/${String(inputs.workloadIdentityPoolId)}`;
        break;
      case "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider":
        state.name = `projects/${OFFLINE_PROJECT_NUMBER}/locations/global/workloadIdentityPools/${String(inputs.workloadIdentityPoolId)}/providers/${String(inputs.workloadIdentityPoolProviderId)}`;
        break;
      case "gcp:monitoring/notificationChannel:NotificationChannel":
        state.name = `projects/${String(inputs.project)}/notificationChannels/${offlineId(args.name)}`;
        break;
      case "gcp:monitoring/alertPolicy:AlertPolicy":
        state.name = `projects/${String(inputs.project)}/alertPolicies/${offlineId(args.name)}`;
        break;
      case "gcp:monitoring/genericService:GenericService":
        state.name = `projects/${OFFLINE_PROJECT_NUMBER}/services/${String(inputs.serviceId)}`;
        break;
      case "gcp:monitoring/slo:Slo":
        state.name = `projects/${OFFLINE_PROJECT_NUMBER}/services/${String(inputs.service)}/serviceLevelObjectives/${String(inputs.sloId)}`;
        break;
      case "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": {
        const id = `${String(args.name).replace(/[^a-z0-9-]/g, "-")}-${offlineId(args.name).slice(0, 6)}`;
        state.uptimeCheckId = id;
        state.name = `projects/${String(inputs.project)}/uptimeCheckConfigs/${id}`;
        break;
      }
      case "gcp:monitoring/dashboard:Dashboard":
        return { id: `projects/${OFFLINE_PROJECT_NUMBER}/dashboards/${offlineId(args.name)}`, state };
      case "gcp:compute/globalAddress:GlobalAddress": {
        // A documentation address (TEST-NET-3, RFC 5737): never a real one.
        state.address = `203.0.113.${Number(BigInt(offlineId(args.name)) % 254n) + 1}`;
        break;
      }
      case "gcp:kms/keyRing:KeyRing":
        return {
          id: `projects/${String(inputs.project)}/locations/${String(inputs.location)}/keyRings/${String(inputs.name)}`,
          state,
        };
      case "gcp:kms/cryptoKey:CryptoKey":
        return { id: `${String(inputs.keyRing)}/cryptoKeys/${String(inputs.name)}`, state };
      case "docker:index/image:Image": {
        const repo = String(inputs.imageName).replace(/:[^/:]+$/, "");
        state.repoDigest = `${repo}@${fakeDigest(String(inputs.imageName))}`;
        break;
      }
    }
    return { id: `${args.name}-id`, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const inputs = args.inputs as Record<string, unknown>;
    switch (args.token) {
      case "gcp:organizations/getProject:getProject":
        return { ...inputs, number: OFFLINE_PROJECT_NUMBER, projectId: inputs.projectId };
      case "gcp:organizations/getClientConfig:getClientConfig":
        return { accessToken: "offline-access-token", project: "offline", region: "offline" };
      case "gcp:kms/getKMSCryptoKeyVersion:getKMSCryptoKeyVersion": {
        // The key's public half; a placeholder offline, never a real key.
        const name = `${String(inputs.cryptoKey)}/cryptoKeyVersions/${String(inputs.version ?? 1)}`;
        const algorithm = "EC_SIGN_P256_SHA256";
        const pem =
          "-----BEGIN PUBLIC KEY-----\n(offline render: read from Cloud KMS)\n-----END PUBLIC KEY-----\n";
        return {
          ...inputs,
          id: `//cloudkms.googleapis.com/v1/${name}`,
          name,
          algorithm,
          publicKeys: [{ algorithm, pem }],
        };
      }
      default:
        return inputs;
    }
  }
}
