import { createHash } from "node:crypto";
import {
  approvedDigests,
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  type IndexEntry,
} from "../../model/supplyChain/digests";
import { parseImageRef } from "../../model/imageRef";
import { CliError } from "../output";
import { loopbackUrl } from "../live/endpoint";
import { REGISTRY_ENDPOINT_ENV, type ResolvedImage } from "./scan";

const ACCEPT = [...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES].join(", ");

/**
 * Resolves an image reference with the registry's v2 API (`GET /v2/<name>/manifests/<ref>`, asking
 * for an OCI or Docker index or manifest): a single manifest approves its own digest, an index its
 * own and its linux/amd64 entry's. Artifact Registry takes an OAuth access token of Application
 * Default Credentials (`oauth2accesstoken`, as `docker login` uses it).
 */
export async function resolveImage(
  ref: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<ResolvedImage> {
  const parsed = parseImageRef(ref);
  if (!parsed) throw new CliError(`"${ref}" is not an image reference; give REPOSITORY@sha256:DIGEST.`, 2);
  const slash = parsed.repository.indexOf("/");
  const host = parsed.repository.slice(0, slash);
  const name = parsed.repository.slice(slash + 1);
  const reference = parsed.digest ?? parsed.tag ?? "latest";
  const local = loopbackUrl(REGISTRY_ENDPOINT_ENV, env);
  const base = local ? `http://${local.host}` : `https://${host}`;
  const headers: Record<string, string> = { Accept: ACCEPT };
  if (!local) {
    let token;
    try {
      // Loaded on use: every command the CLI registers loads this module at start.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { GoogleAuth } = require("google-auth-library") as typeof import("google-auth-library");
      token = await new GoogleAuth({
        scopes: ["https://www.googleapis.com/auth/cloud-platform"],
      }).getAccessToken();
    } catch (e) {
      throw new CliError(
        `Cannot read ${ref} from its registry: no Google credentials (${(e as Error).message.split(". ")[0]}). ` +
          "Fix: sign in with `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS; nothing was changed.",
      );
    }
    headers.Authorization = `Basic ${Buffer.from(`oauth2accesstoken:${token ?? ""}`).toString("base64")}`;
  }
  const url = `${base}/v2/${name}/manifests/${reference}`;
  let response: Response;
  try {
    response = await fetch(url, { headers });
  } catch (e) {
    throw new CliError(`The registry ${host} could not be reached for ${ref}: ${(e as Error).message}.`);
  }
  const body = Buffer.from(await response.arrayBuffer());
  if (!response.ok)
    throw new CliError(
      `The registry answered ${response.status} for ${ref}` +
        (response.status === 401 || response.status === 403
          ? `. Fix: grant roles/artifactregistry.reader on the repository to the identity this runs as.`
          : response.status === 404
            ? ": no such image. Fix: check the reference, and that the image was pushed."
            : "."),
    );
  // A digest names content: the registry's answer for it is that content. A tag's digest is the one
  // the registry reports, else the content's own.
  const reported = response.headers.get("docker-content-digest") ?? undefined;
  if (parsed.digest && reported && reported !== parsed.digest)
    throw new CliError(
      `The registry answered for ${ref} with the manifest ${reported}, not the one asked for.`,
    );
  const digest = parsed.digest ?? reported ?? `sha256:${createHash("sha256").update(body).digest("hex")}`;
  let json: { mediaType?: string; manifests?: IndexEntry[] };
  try {
    json = JSON.parse(body.toString("utf8")) as typeof json;
  } catch {
    throw new CliError(`The registry's manifest for ${ref} is not JSON.`);
  }
  const mediaType = response.headers.get("content-type")?.split(";")[0].trim() ?? json.mediaType;
  const isIndex =
    (INDEX_MEDIA_TYPES as readonly string[]).includes(mediaType ?? "") || Array.isArray(json.manifests);
  const digests = approvedDigests(
    isIndex ? { kind: "index", digest, manifests: json.manifests ?? [] } : { kind: "manifest", digest },
  );
  if ("problem" in digests) throw new CliError(`${ref} cannot run on Cloud Run: ${digests.problem}.`);
  return { repository: parsed.repository, digests };
}
