import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { parseStackConfig, StackConfigError } from "./config/parse.ts";
import { CONFIG_NAMESPACE, type StackConfig } from "./config/schema.ts";

// `isConfigSecret` is exported by the runtime but missing from its type declarations.
const runtime = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };

/** Reads and validates this stack's `workbench:*` config; throws before any resource exists. */
export function readStackConfig(): StackConfig {
  const raw = pulumi.runtime.allConfig();
  const secretKeys = new Set(Object.keys(raw).filter((key) => runtime.isConfigSecret(key)));
  return parseStackConfig(raw, secretKeys);
}

/** A problem in a committed stack file, with the line it is on. */
export class StackFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackFileError";
  }
}

export interface StackFileCheck {
  /** Settings of the file that the caller's overrides replace, one line each (file:line: ...). */
  overridden: string[];
}

/**
 * Checks a committed stack file (e.g. Pulumi.local.yaml) before anything runs: YAML
 * errors and invalid `workbench:*` values are reported with the file and line, a
 * secret key written in plaintext is refused, and every value `overrides` will replace
 * is listed (so nothing is overridden silently).
 *
 * @param overrides values the caller sets on top, keyed like the file (`workbench:database`)
 * @param secrets   secret keys the caller supplies (a placeholder stands in for validation)
 */
export function checkStackFile(
  path: string,
  displayName: string,
  overrides: Record<string, unknown>,
  secrets: readonly string[],
): StackFileCheck {
  const text = readFileSync(path, "utf8");
  const lineCounter = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number | undefined) =>
    `${displayName}:${offset === undefined ? "?" : lineCounter.linePos(offset).line}`;
  if (doc.errors.length > 0) {
    const first = doc.errors[0] as YAML.YAMLError;
    const message = first.message.split("\n")[0] ?? first.message;
    throw new StackFileError(
      `${at(first.pos[0])}: invalid YAML: ${message} (nothing was changed; fix the file and re-run)`,
    );
  }
  const config = ((doc.toJS() as { config?: Record<string, unknown> } | null)?.config ?? {}) as Record<
    string,
    unknown
  >;
  const lineOf = (key: string, path: readonly string[] = []): string => {
    const node = doc.getIn(["config", key, ...path], true) as YAML.Node | undefined;
    const pair = doc.getIn(["config", key], true) as YAML.Node | undefined;
    return at((node?.range ?? pair?.range)?.[0]);
  };

  const problems: string[] = [];
  for (const key of secrets) {
    const full = `${CONFIG_NAMESPACE}:${key}`;
    if (full in config) {
      problems.push(
        `${lineOf(full)}: ${full} must not be in ${displayName} (a plaintext secret in a committed file): ` +
          "the scripts set it, as a secret, from the local server; delete the line",
      );
    }
  }
  const raw: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    raw[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  const secretKeys = new Set<string>();
  for (const key of secrets) {
    const full = `${CONFIG_NAMESPACE}:${key}`;
    raw[full] = "placeholder-secret-value";
    secretKeys.add(full);
  }
  try {
    parseStackConfig(raw, secretKeys);
  } catch (error) {
    if (!(error instanceof StackConfigError)) throw error;
    for (const problem of error.problems) {
      const [head, ...rest] = problem.key.split(".");
      problems.push(`${lineOf(head as string, rest)}: ${problem.key}: ${problem.rule} (got ${problem.got})`);
    }
  }
  if (problems.length > 0) {
    throw new StackFileError(
      `invalid stack configuration in ${displayName} (nothing was changed):\n` +
        problems.map((problem) => `  - ${problem}`).join("\n"),
    );
  }

  const overridden: string[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const full = `${CONFIG_NAMESPACE}:${key}`;
    const written = config[full];
    if (written === undefined) continue;
    if (value !== null && typeof value === "object" && written !== null && typeof written === "object") {
      for (const [field, replacement] of Object.entries(value as Record<string, unknown>)) {
        const old = (written as Record<string, unknown>)[field];
        if (old !== undefined && JSON.stringify(old) !== JSON.stringify(replacement)) {
          overridden.push(
            `${lineOf(full, [field])}: ${full}.${field} ${JSON.stringify(old)} is replaced by ${JSON.stringify(replacement)}`,
          );
        }
      }
    } else if (JSON.stringify(written) !== JSON.stringify(value)) {
      overridden.push(
        `${lineOf(full)}: ${full} ${JSON.stringify(written)} is replaced by ${JSON.stringify(value)}`,
      );
    }
  }
  return { overridden };
}
