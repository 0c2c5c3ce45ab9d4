import type { ApprovedDigests } from "./vulnerabilities";

/**
 * Which digest of an image Cloud Run runs. A multi-platform image is an index (OCI image index or
 * Docker manifest list) naming one manifest per platform; Cloud Run runs linux/amd64, and Artifact
 * Analysis scans only the first linux/amd64 image of a list, so that is the digest the gate reads and
 * the one a live check compares.
 */

/** Media types of an index, as the registry's `Content-Type` names them. */
export const INDEX_MEDIA_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
] as const;

/** Media types of a single-platform manifest. */
export const MANIFEST_MEDIA_TYPES = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
] as const;

/** One entry of an index's `manifests`. */
export interface IndexEntry {
  readonly digest: string;
  readonly mediaType?: string;
  readonly platform?: { readonly os?: string; readonly architecture?: string; readonly variant?: string };
}

/** The manifest Cloud Run runs from an index: the first linux/amd64 entry, or undefined when there is none. */
export function runnableEntry(manifests: readonly IndexEntry[]): IndexEntry | undefined {
  return manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64");
}

/**
 * The approved digests of a reference: from a single manifest, its own digest; from an index, the
 * index's and its linux/amd64 entry's. Returns a problem instead when the index has no such entry.
 */
export function approvedDigests(
  resolved:
    | { readonly kind: "manifest"; readonly digest: string }
    | { readonly kind: "index"; readonly digest: string; readonly manifests: readonly IndexEntry[] },
): ApprovedDigests | { readonly problem: string } {
  if (resolved.kind === "manifest") return { linuxAmd64: resolved.digest };
  const entry = runnableEntry(resolved.manifests);
  if (!entry) {
    const platforms = resolved.manifests
      .map((m) => (m.platform ? `${m.platform.os ?? "?"}/${m.platform.architecture ?? "?"}` : "unknown"))
      .join(", ");
    return {
      problem: `the image index ${resolved.digest} has no linux/amd64 image (it has ${platforms || "none"}), and Cloud Run runs linux/amd64`,
    };
  }
  return { index: resolved.digest, linuxAmd64: entry.digest };
}

/**
 * Whether a revision Cloud Run reports runs the approved image. Cloud Run reports the image as
 * deployed (`REPO@sha256:...`): the index's digest when the template named the index, so either
 * approved digest matches. Returns a problem line, or undefined when it matches.
 */
export function runningImageProblem(
  approved: ApprovedDigests,
  runningImage: string | undefined,
): string | undefined {
  if (!runningImage) return "Cloud Run reports no image for it";
  const digest = /@(sha256:[a-f0-9]{64})$/.exec(runningImage)?.[1];
  if (!digest) return `it runs ${runningImage}, which names no digest, not the approved image`;
  if (digest === approved.linuxAmd64 || digest === approved.index) return undefined;
  return (
    `it runs ${digest}, which is not the approved image (linux/amd64 ${approved.linuxAmd64}` +
    `${approved.index ? `, index ${approved.index}` : ""})`
  );
}
