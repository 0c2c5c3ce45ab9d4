import { serviceAccountEmail } from "./identity";

/** Account ids of the two CI identities every stack declares (components/identity/deliveryIdentity.ts). */
export const DEPLOYER_ACCOUNT_ID = "github-deployer";
export const PREVIEWER_ACCOUNT_ID = "github-previewer";

/** One IAM binding on the Pulumi state bucket or its KMS key, granted once by a person. */
export interface StateAccessGrant {
  readonly who: "deployer" | "previewer";
  readonly on:
    { readonly kind: "bucket"; readonly bucket: string } | { readonly kind: "key"; readonly key: string };
  readonly role: string;
  readonly member: string;
}

/**
 * What CI needs on the Pulumi state and its secrets key: the deployer writes the state and encrypts,
 * the previewer reads and decrypts. These live in the operations project, outside what the program
 * manages: if the program declared them, every refresh would read their IAM policy, which needs
 * `getIamPolicy` there (no predefined bucket or key role grants it without `setIamPolicy` too), so the
 * drift job and any later apply would fail on them. They are granted once at bootstrap instead.
 */
export function stateAccessGrants(args: {
  readonly project: string;
  readonly stateBucket?: string;
  readonly secretsKey?: string;
}): StateAccessGrant[] {
  const member = (id: string) => `serviceAccount:${serviceAccountEmail(id, args.project)}`;
  const grants: StateAccessGrant[] = [];
  if (args.stateBucket) {
    const on = { kind: "bucket", bucket: args.stateBucket } as const;
    grants.push(
      { who: "deployer", on, role: "roles/storage.objectAdmin", member: member(DEPLOYER_ACCOUNT_ID) },
      { who: "previewer", on, role: "roles/storage.objectViewer", member: member(PREVIEWER_ACCOUNT_ID) },
    );
  }
  if (args.secretsKey) {
    const on = { kind: "key", key: args.secretsKey } as const;
    grants.push(
      {
        who: "deployer",
        on,
        role: "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        member: member(DEPLOYER_ACCOUNT_ID),
      },
      {
        who: "previewer",
        on,
        role: "roles/cloudkms.cryptoKeyDecrypter",
        member: member(PREVIEWER_ACCOUNT_ID),
      },
    );
  }
  return grants;
}

/** The gcloud command that grants one binding; adding a binding that exists changes nothing. */
export function grantCommand(g: StateAccessGrant): string {
  const target =
    g.on.kind === "bucket"
      ? `gcloud storage buckets add-iam-policy-binding gs://${g.on.bucket}`
      : `gcloud kms keys add-iam-policy-binding ${g.on.key}`;
  return `${target} --member=${g.member} --role=${g.role}`;
}
