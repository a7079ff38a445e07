/**
 * The rules the stack-config schema is built from, one message each: a rule used in
 * several places says the same thing everywhere, and a message is written once.
 */
import { z } from "zod";
import { isPinnedImage } from "../../components/cloud/image-ref.ts";

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
export const HTTPS_URL = /^https:\/\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[^\s]*)?$/;
export const DO_SIZE = /^[a-z0-9]+(-[a-z0-9]+)+$/;
const SEMVER = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;

// ---- plain values ----

export const flag = () => z.boolean({ error: "must be true or false" });
export const wholeNumber = () => z.int({ error: "must be a whole number" });
export const number = () => z.number({ error: "must be a number" });
/** A whole number of at least `min`. */
export const atLeast = (min: number) => wholeNumber().min(min, { error: `must be at least ${min}` });
/** `rule`, at most `max`; `why` (e.g. "(one day)") follows the message. */
export const atMost = (rule: z.ZodInt, max: number, why?: string) =>
  rule.max(max, { error: `must be at most ${max}${why ? ` ${why}` : ""}` });
/** `rule` between `min` and `max`, both ends with the same message. */
export const between = <T extends z.ZodInt | z.ZodNumber>(
  rule: T,
  min: number,
  max: number,
  message: string,
) => rule.min(min, { error: message }).max(max, { error: message });
/** A string matching `pattern`, else `message`. */
export const matching = (pattern: RegExp, message: string) => z.string().regex(pattern, { error: message });
/** One of `values`, else "must be one of a, b, c". */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: `must be one of ${values.join(", ")}` });

// ---- shared by the local and the cloud settings ----

export const hostRule = () => matching(HOSTNAME, "must be a hostname or IPv4 address");
export const tcpPortRule = () => between(wholeNumber(), 1, 65535, "must be a TCP port (1-65535)");
export const pgIdentifierRule = () =>
  matching(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lowercase PostgreSQL identifier");
export const pgRoleNameRule = () =>
  matching(/^[a-z_][a-z0-9_.]{0,62}$/, "must be a lowercase PostgreSQL role name");
export const sslModeRule = () => oneOf(["disable", "require", "verify-full"]);
export const dnsLabelRule = () => matching(DNS_LABEL, "must be a lowercase DNS label (a-z, 0-9, -)");

// ---- cloud settings ----

/** A Helm chart version, defaulting to `example` (`pattern`: semver unless the chart tags otherwise). */
export const chartVersion = (example: string, pattern = SEMVER) =>
  matching(pattern, `must be a chart version like ${example}`).default(example);

/** A container image pinned to a version tag or digest, defaulting to `example`. */
export const imageRef = (example: string) =>
  z
    .string({ error: "must be a container image reference" })
    .refine(isPinnedImage, {
      error:
        "must be an image reference pinned to a version tag or digest, like registry.example.com/team/app:1.2.3 (not :latest, not untagged)",
    })
    .default(example);

/** An optional credential (SECRET_KEYS) of at least `min` characters, else `message`. */
export const secret = (min: number, message: string) => z.string().min(min, { error: message }).optional();

/** True when `cidr` is an IPv4 network inside one of the RFC 1918 private ranges. */
export function isPrivateCidr(cidr: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return false;
  const [a, b, c, d, bits] = match.slice(1).map(Number) as [number, number, number, number, number];
  if ([a, b, c, d].some((octet) => octet > 255) || bits > 32) return false;
  const address = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  if ((address & mask) >>> 0 !== address) return false; // host bits set: not a network address
  const inside = (base: number, baseBits: number) =>
    bits >= baseBits && (address & ((~0 << (32 - baseBits)) >>> 0)) >>> 0 === base;
  return inside(0x0a000000, 8) || inside(0xac100000, 12) || inside(0xc0a80000, 16);
}
