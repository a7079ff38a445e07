/**
 * Container image references: parsing and the "pinned" rule shared by the config schema,
 * the components (App Platform needs the parts) and the policy pack.
 *
 * A reference is `[registry/]repository[:tag][@sha256:digest]`. It is pinned when it names
 * a digest, or a tag that is not one of the floating ones (`latest`, `stable`, ...).
 */

/** Tags that move: a deployment naming one is not reproducible. */
export const FLOATING_TAGS: ReadonlySet<string> = new Set([
  "latest",
  "stable",
  "main",
  "master",
  "edge",
  "nightly",
  "dev",
]);

export interface ImageReference {
  /** Registry host (with port), when the first path component names one; e.g. `ghcr.io`. */
  registry?: string;
  /** Repository path below the registry, e.g. `berriai/litellm`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` */
  digest?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const REGISTRY = /^(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|[a-zA-Z0-9-]+)(?::[0-9]+)?$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** Splits a reference into its parts; undefined when it is not a valid reference. */
export function parseImageReference(reference: string): ImageReference | undefined {
  let rest = reference.trim();
  if (rest === "" || rest !== reference) return undefined;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  const parts = rest.split("/");
  let registry: string | undefined;
  const first = parts[0] ?? "";
  if (parts.length > 1 && (first.includes(".") || first.includes(":") || first === "localhost")) {
    registry = first;
    parts.shift();
    if (!REGISTRY.test(registry)) return undefined;
  }
  if (parts.length === 0 || !parts.every((part) => COMPONENT.test(part))) return undefined;
  return {
    ...(registry === undefined ? {} : { registry }),
    repository: parts.join("/"),
    ...(tag === undefined ? {} : { tag }),
    ...(digest === undefined ? {} : { digest }),
  };
}

/**
 * Why a reference is not pinned, or undefined when it is. The reason completes a sentence
 * like `image "redis" ...`.
 */
export function imagePinProblem(reference: string): string | undefined {
  const parsed = parseImageReference(reference);
  if (!parsed) return "is not a valid image reference";
  if (parsed.digest) return undefined;
  if (parsed.tag === undefined) return "has no tag: pin a version (e.g. :1.2.3) or a digest";
  if (FLOATING_TAGS.has(parsed.tag))
    return `uses the floating tag "${parsed.tag}": pin a version or a digest`;
  return undefined;
}

export function isPinnedImage(reference: string): boolean {
  return imagePinProblem(reference) === undefined;
}
