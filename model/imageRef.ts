/** A container image reference split into its parts: `repository[:tag][@sha256:digest]`. */
export interface ImageRef {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

// Registry host (with optional port), then a lowercase path; tag and digest as the OCI distribution spec allows.
const IMAGE_REF =
  /^(?<repository>[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$/;

/** Parses an image reference, or returns undefined when it is not one. */
export function parseImageRef(ref: string): ImageRef | undefined {
  const m = IMAGE_REF.exec(ref);
  if (!m?.groups) return undefined;
  const { repository, tag, digest } = m.groups;
  return { repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** A digest as people compare them: `sha256:` and its first 12 hex digits, as `docker images` shows ids. */
export function shortDigest(digest: string): string {
  return digest.slice(0, "sha256:".length + 12);
}

/** Every full image digest in a text abbreviated by `shortDigest`, so that plan and diff show the same. */
export function abbreviateDigests(text: string): string {
  return text.replace(/\bsha256:[a-f0-9]{64}\b/g, shortDigest);
}

/** A short, human-readable form of a reference: the image's name and its short digest, else the tag. */
export function shortImage(ref: string): string {
  const parsed = parseImageRef(ref);
  if (!parsed) return ref;
  const name = parsed.repository.split("/").pop();
  if (parsed.digest) return `${name}@${shortDigest(parsed.digest)}`;
  return `${name}:${parsed.tag ?? "latest"}`;
}

/** Artifact Registry repository coordinates, from `LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE`. */
export interface ArtifactRepository {
  readonly location: string;
  readonly project: string;
  readonly repository: string;
}

const ARTIFACT_REGISTRY =
  /^(?<location>[a-z0-9-]+)-docker\.pkg\.dev\/(?<project>[a-z0-9-:.]+)\/(?<repository>[a-z0-9-]+)\//;

/** The Artifact Registry repository an image lives in, or undefined for other registries. */
export function artifactRepository(imageRepository: string): ArtifactRepository | undefined {
  const m = ARTIFACT_REGISTRY.exec(imageRepository);
  if (!m?.groups) return undefined;
  return { location: m.groups.location, project: m.groups.project, repository: m.groups.repository };
}
