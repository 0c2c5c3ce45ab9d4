import * as secretmanager from "@pulumi/gcp/secretmanager";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as pulumi from "@pulumi/pulumi";
import { runtimeAccountId, serviceAccountEmail } from "../../model/identity";

export interface RuntimeIdentityArgs {
  /** The Cloud Run service this identity runs as; decides the account id. */
  readonly service: string;
  /** GCP project the account lives in. */
  readonly project: string;
  /** Secret Manager secrets the service reads (ids or full names); each is granted on that secret alone. Default: none. */
  readonly secrets?: readonly string[];
}

/**
 * A service's own runtime service account, with no project-wide roles: only `secretAccessor` on the
 * secrets its revisions reference. Keys are never created; Cloud Run uses the account's identity directly.
 */
export class RuntimeIdentity extends pulumi.ComponentResource {
  /** The account's email, known before creation because the id is derived from the service name. */
  public readonly email: string;
  public readonly account: serviceaccount.Account;

  constructor(name: string, args: RuntimeIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-orchestra:identity:RuntimeIdentity", name, {}, opts);
    const accountId = runtimeAccountId(args.service);
    this.email = serviceAccountEmail(accountId, args.project);

    this.account = new serviceaccount.Account(
      `${name}-account`,
      {
        project: args.project,
        accountId,
        displayName: `Cloud Run runtime: ${args.service}`,
        description: `Runtime identity of the ${args.service} Cloud Run service. Managed by Pulumi.`,
      },
      { parent: this },
    );

    const member = pulumi.interpolate`serviceAccount:${this.account.email}`;
    for (const secret of [...new Set(args.secrets ?? [])].sort()) {
      const short = secret.split("/").pop() as string;
      new secretmanager.SecretIamMember(
        `${name}-secret-${short}`,
        { project: args.project, secretId: secret, role: "roles/secretmanager.secretAccessor", member },
        { parent: this },
      );
    }

    this.registerOutputs({ email: this.email, account: this.account });
  }
}
