/**
 * Reads a stack's `workbench:*` configuration.
 *
 * Only `stacks/` reads Pulumi config, and only through {@link parseStackConfig}: it runs
 * before any resource is registered, so a bad value fails the deployment with a message
 * naming the key, the rule and what was found, and nothing is touched.
 *
 * The parser is a pure function of the raw config map (as `pulumi.runtime.allConfig()`
 * returns it) and the set of keys that were stored as secrets, so tests call it directly.
 */
import type { z } from "zod";
import { CONFIG_NAMESPACE, SECRET_KEYS, stackConfigSchema, type StackConfig } from "./schema.ts";

const PREFIX = `${CONFIG_NAMESPACE}:`;

/** One thing wrong with the config: which key, which rule, what was there. */
export interface ConfigProblem {
  key: string;
  rule: string;
  got: string;
}

export class StackConfigError extends Error {
  constructor(public readonly problems: ConfigProblem[]) {
    super(
      `invalid stack configuration (nothing was changed):\n` +
        problems.map((p) => `  - ${p.key}: ${p.rule} (got ${p.got})`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}

/** Turns a raw config string into the value it denotes: JSON objects, numbers and booleans. */
function decodeValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (/^[[{]/.test(trimmed) || /^(true|false|-?\d+(\.\d+)?)$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return raw;
    }
  }
  return raw;
}

function describe(value: unknown, secret: boolean): string {
  if (secret) return "[secret]";
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: Record<string, unknown>, path: PropertyKey[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** The `workbench:*` entries of `raw`, without the prefix, their values decoded. */
function workbenchValues(raw: Record<string, string>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [fullKey, rawValue] of Object.entries(raw)) {
    if (fullKey.startsWith(PREFIX)) values[fullKey.slice(PREFIX.length)] = decodeValue(rawValue);
  }
  return values;
}

/** Credentials stored in plaintext. */
function plaintextSecrets(raw: Record<string, string>, secretKeys: ReadonlySet<string>): ConfigProblem[] {
  return SECRET_KEYS.map((key) => PREFIX + key)
    .filter((fullKey) => fullKey in raw && !secretKeys.has(fullKey))
    .map((fullKey) => ({
      key: fullKey,
      rule: `must be stored as a secret: pulumi config set --secret ${fullKey} <value>`,
      got: "a plaintext value",
    }));
}

/** The schema's issues as problems: one per unknown key, one per broken rule (secrets never shown). */
function schemaProblems(
  issues: readonly z.core.$ZodIssue[],
  values: Record<string, unknown>,
): ConfigProblem[] {
  return issues.flatMap((issue): ConfigProblem[] => {
    const path = [...issue.path];
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((unknownKey) => ({
        key: PREFIX + [...path, unknownKey].join("."),
        rule: "is not a known setting (check for a typo)",
        got: describe(valueAt(values, [...path, unknownKey]), false),
      }));
    }
    const isSecret = SECRET_KEYS.some((secret) => path[0] === secret);
    const got = valueAt(values, path);
    const rule = got === undefined && issue.code === "invalid_type" ? "is required" : issue.message;
    return [{ key: PREFIX + path.join("."), rule, got: describe(got, isSecret) }];
  });
}

/**
 * Validates a stack's raw config.
 *
 * @param raw        config map keyed `workbench:<key>` (other namespaces are ignored)
 * @param secretKeys full keys (`workbench:<key>`) that are stored as secrets
 * @throws StackConfigError listing every problem found
 */
export function parseStackConfig(raw: Record<string, string>, secretKeys: ReadonlySet<string>): StackConfig {
  const values = workbenchValues(raw);
  const problems = plaintextSecrets(raw, secretKeys);
  const result = stackConfigSchema.safeParse(values);
  if (!result.success) problems.push(...schemaProblems(result.error.issues, values));
  if (problems.length > 0 || !result.success) throw new StackConfigError(problems);
  return result.data;
}
