/**
 * Offline validation of Helm values against the charts' own JSON schemas, read from the
 * shared reference data (../shared/chart-schemas/, never copied into the project).
 *
 * Helm validates the coalesced values (chart defaults overlaid with the release's values),
 * so we do the same: the chart's values.yaml merged with ours, then the schema.
 *
 * A clone outside the workspace has no ../shared: the tests that validate against a chart
 * schema then skip, with the reason shown in the test report (CI has ../shared and runs them).
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { TestRunner } from "vitest";
import { Ajv, type ErrorObject } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import YAML from "yaml";
import { mergeValues, type HelmValues } from "../../../components/kubernetes/helm-values.ts";

export const CHART_SCHEMAS_DIR = fileURLToPath(new URL("../../../../shared/chart-schemas/", import.meta.url));

/** Why chart-schema tests cannot run here, or undefined when the schemas are present. */
export function chartSchemasMissing(schema: ChartSchema): string | undefined {
  const file = `${CHART_SCHEMAS_DIR}${schema.chart}.values.schema.json`;
  return existsSync(file)
    ? undefined
    : `chart schema ${schema.chart} not found at ${file} (reference data in ../shared, absent outside the workspace)`;
}

/** Skips the running test, visibly and with the reason, when the chart's schema is absent. */
function skipWithoutSchemas(schema: ChartSchema): void {
  const missing = chartSchemasMissing(schema);
  if (missing === undefined) return;
  const test = TestRunner.getCurrentTest();
  if (!test) throw new Error(missing);
  // Shown in the default reporter's output too (it lists a passing file's skips only as a count).
  console.warn(`skipped "${test.name}": ${missing}`);
  test.context.skip(missing);
}

export interface ChartSchema {
  /** File stem, e.g. `traefik-41.3.0`. */
  chart: string;
  draft: "2020-12" | "draft-07";
}

export const TRAEFIK_SCHEMA: ChartSchema = { chart: "traefik-41.3.0", draft: "2020-12" };
export const N8N_SCHEMA: ChartSchema = { chart: "n8n-1.11.0", draft: "draft-07" };

/** The chart's own default values (values.yaml). */
export function chartDefaults(schema: ChartSchema): HelmValues {
  skipWithoutSchemas(schema);
  return (YAML.parse(readFileSync(`${CHART_SCHEMAS_DIR}${schema.chart}.values.yaml`, "utf8")) ??
    {}) as HelmValues;
}

/** Validates values (after coalescing with the chart defaults); returns readable errors, empty when valid. */
export function chartSchemaErrors(schema: ChartSchema, values: HelmValues): string[] {
  skipWithoutSchemas(schema);
  const json = JSON.parse(
    readFileSync(`${CHART_SCHEMAS_DIR}${schema.chart}.values.schema.json`, "utf8"),
  ) as object;
  // strict: false: the n8n schema uses ajv-errors' `errorMessage` keyword, which is only a message.
  const options = { strict: false, allErrors: true, validateFormats: false };
  const ajv = schema.draft === "2020-12" ? new Ajv2020(options) : new Ajv(options);
  const validate = ajv.compile(json);
  const coalesced = mergeValues(chartDefaults(schema), values);
  if (validate(coalesced)) return [];
  return (validate.errors ?? []).map(
    (error: ErrorObject) =>
      `${error.instancePath || "/"} ${error.message ?? "is invalid"} ${JSON.stringify(error.params)}`,
  );
}
