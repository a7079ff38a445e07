/**
 * Helm values: the base files in helm-values/ and a deep merge with Helm's semantics, so a
 * component's typed overrides win over the base file and the chart's defaults.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";

export type HelmValues = Record<string, unknown>;

/** The repository's helm-values/ directory. */
export const HELM_VALUES_DIR = fileURLToPath(new URL("../../helm-values/", import.meta.url));

/** Default base values file for a chart: `helm-values/<chart>.yaml`. */
export function baseValuesPath(chart: string): string {
  return `${HELM_VALUES_DIR}${chart}.yaml`;
}

/** Reads a values file; it must hold a YAML mapping. */
export function readValuesFile(path: string): HelmValues {
  let parsed: unknown;
  try {
    parsed = YAML.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`cannot read Helm values from ${path}: ${(error as Error).message}`, { cause: error });
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isPlainObject(parsed)) throw new Error(`Helm values file ${path} must hold a YAML mapping at the top`);
  return parsed;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  if (pulumi.Output.isInstance(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Merges values like Helm: mappings merge key by key, everything else (lists, scalars,
 * Pulumi Outputs) is replaced by the later value, `null` removes a key, `undefined` is skipped.
 */
export function mergeValues(base: HelmValues, ...overrides: HelmValues[]): HelmValues {
  let result: HelmValues = { ...base };
  for (const override of overrides) {
    const next: HelmValues = { ...result };
    for (const [key, value] of Object.entries(override)) {
      if (value === undefined) continue;
      if (value === null) {
        delete next[key];
        continue;
      }
      const current = next[key];
      next[key] = isPlainObject(current) && isPlainObject(value) ? mergeValues(current, value) : value;
    }
    result = next;
  }
  return result;
}
