/**
 * dbt artifacts as the catalog seeder reads them: `manifest.json` (schema v5–v12, dbt
 * 1.1 and later), `catalog.json` (from `dbt docs generate`) and `run_results.json`.
 *
 * The zod schemas name only the fields the seeder uses: unknown fields are ignored,
 * optional ones may be missing or null, so artifacts of other projects and dbt versions
 * load as long as what is there has the right shape. A malformed file is rejected with
 * an {@link ArtifactError} naming the file, the path inside it and the problem, e.g.
 * `…/manifest.json: nodes.model.shop.orders.columns: expected object, got string`.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { z } from "zod";

export class ArtifactError extends Error {
  constructor(
    public readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = "ArtifactError";
  }
}

const meta = z.record(z.string(), z.unknown());
const stringList = z.array(z.string());

const manifestColumn = z.object({
  name: z.string().nullish(),
  description: z.string().nullish(),
  data_type: z.string().nullish(),
  tags: stringList.nullish(),
  meta: meta.nullish(),
  constraints: z.array(z.object({ type: z.string() })).nullish(),
});

const nodeConfig = z.object({
  enabled: z.boolean().nullish(),
  materialized: z.string().nullish(),
  severity: z.string().nullish(),
  tags: z.union([stringList, z.string()]).nullish(),
  meta: meta.nullish(),
  where: z.string().nullish(),
});

const manifestNode = z.object({
  unique_id: z.string(),
  resource_type: z.string(),
  name: z.string(),
  package_name: z.string().nullish(),
  database: z.string().nullish(),
  schema: z.string().nullish(),
  alias: z.string().nullish(),
  fqn: stringList.nullish(),
  description: z.string().nullish(),
  tags: stringList.nullish(),
  meta: meta.nullish(),
  config: nodeConfig.nullish(),
  columns: z.record(z.string(), manifestColumn).nullish(),
  depends_on: z.object({ nodes: stringList.nullish() }).nullish(),
  constraints: z.array(z.object({ type: z.string(), columns: stringList.nullish() })).nullish(),
  relation_name: z.string().nullish(),
  language: z.string().nullish(),
  compiled_code: z.string().nullish(),
  /** Before dbt 1.3 (kept for hand-made or converted manifests). */
  compiled_sql: z.string().nullish(),
  // tests
  column_name: z.string().nullish(),
  attached_node: z.string().nullish(),
  test_metadata: z
    .object({
      name: z.string(),
      namespace: z.string().nullish(),
      kwargs: z.record(z.string(), z.unknown()).nullish(),
    })
    .nullish(),
});

const manifestSource = manifestNode.extend({
  source_name: z.string().nullish(),
  identifier: z.string().nullish(),
});

const manifestExposure = z.object({
  unique_id: z.string(),
  name: z.string(),
  type: z.string().nullish(),
  depends_on: z.object({ nodes: stringList.nullish() }).nullish(),
});

const manifestSchema = z.object({
  metadata: z.object({
    dbt_schema_version: z.string(),
    dbt_version: z.string().nullish(),
    generated_at: z.string().nullish(),
    invocation_id: z.string().nullish(),
    project_name: z.string().nullish(),
    project_id: z.string().nullish(),
    adapter_type: z.string().nullish(),
  }),
  nodes: z.record(z.string(), manifestNode),
  sources: z.record(z.string(), manifestSource).nullish(),
  exposures: z.record(z.string(), manifestExposure).nullish(),
});

const catalogColumn = z.object({
  name: z.string(),
  type: z.string().nullish(),
  index: z.number().nullish(),
  comment: z.string().nullish(),
  /** No adapter writes it today; read when one does. */
  nullable: z.boolean().nullish(),
});

const catalogTable = z.object({
  metadata: z.object({
    type: z.string().nullish(),
    schema: z.string(),
    name: z.string(),
    database: z.string().nullish(),
    comment: z.string().nullish(),
  }),
  columns: z.record(z.string(), catalogColumn),
  stats: z.record(z.string(), z.object({ id: z.string().nullish(), value: z.unknown() })).nullish(),
});

const catalogSchema = z.object({
  metadata: z
    .object({ dbt_schema_version: z.string().nullish(), generated_at: z.string().nullish() })
    .nullish(),
  nodes: z.record(z.string(), catalogTable),
  sources: z.record(z.string(), catalogTable).nullish(),
});

const runResult = z.object({
  unique_id: z.string(),
  status: z.string(),
  timing: z
    .array(
      z.object({ name: z.string(), started_at: z.string().nullish(), completed_at: z.string().nullish() }),
    )
    .nullish(),
  execution_time: z.number().nullish(),
  message: z.string().nullish(),
  failures: z.number().nullish(),
  adapter_response: z.record(z.string(), z.unknown()).nullish(),
  compiled_code: z.string().nullish(),
  /** Before dbt 1.3. */
  compiled_sql: z.string().nullish(),
});

const runResultsSchema = z.object({
  metadata: z.object({
    dbt_schema_version: z.string().nullish(),
    generated_at: z.string().nullish(),
    invocation_id: z.string().nullish(),
    invocation_started_at: z.string().nullish(),
  }),
  results: z.array(runResult),
  elapsed_time: z.number().nullish(),
  args: z
    .object({
      which: z.string().nullish(),
      select: z.union([stringList, z.string()]).nullish(),
    })
    .nullish(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestNode = z.infer<typeof manifestNode>;
export type ManifestSource = z.infer<typeof manifestSource>;
export type ManifestColumn = z.infer<typeof manifestColumn>;
export type Catalog = z.infer<typeof catalogSchema>;
export type CatalogTable = z.infer<typeof catalogTable>;
export type RunResults = z.infer<typeof runResultsSchema>;
export type RunResult = z.infer<typeof runResult>;

/**
 * Manifest schemas read. v5–v12 (dbt 1.1–1.12) share every field the seeder uses
 * (nodes with resource_type, relation, config.enabled/materialized, columns, depends_on,
 * test_metadata; sources; compiled SQL as `compiled_sql` before v7, `compiled_code` since);
 * the fields added on the way (constraints v9, attached_node v9, project_name v11,
 * unit_tests v12) are optional here. Each version has a fixture (test/fixtures/dbt-artifacts).
 */
export const SUPPORTED_MANIFEST_VERSIONS = [5, 6, 7, 8, 9, 10, 11, 12] as const;

/** Why a manifest schema outside {@link SUPPORTED_MANIFEST_VERSIONS} is refused. */
export function unsupportedManifestReason(version: number | null, raw: string): string {
  if (version === null) return `'${raw}' is not a dbt manifest schema URL (…/dbt/manifest/vN.json)`;
  if (version < 5)
    return (
      `v${version} is written by dbt 1.0 or older, whose manifests this seeder has no fixture for and which ` +
      `dbt Labs no longer supports: the seeder reads v5–v12 (dbt 1.1–1.12); upgrade dbt and regenerate the artifacts`
    );
  return (
    `v${version} is newer than this seeder knows (it reads v5–v12, dbt 1.1–1.12): a new schema may rename or ` +
    `re-mean fields it relies on; add a fixture for v${version} and its version here, or seed artifacts of a supported dbt`
  );
}

/** The dbt commands whose run_results.json carry build, run and test results. */
const RESULT_COMMANDS = new Set(["build", "run", "test", "seed", "snapshot", "run-operation", "retry"]);
/** Commands whose run_results.json carry compiled SQL but no results. */
const COMPILE_COMMANDS = new Set(["compile", "show"]);

/** What a JSON value is, in the words of an error message. */
function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => (typeof key === "number" ? `[${key}]` : i === 0 ? String(key) : `.${String(key)}`))
    .join("");
}

function formatIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const where = issue.path.length > 0 ? `${formatPath(issue.path)}: ` : "";
  if (issue.code === "invalid_type") {
    const found = valueAt(raw, issue.path);
    const expected = issue.expected === "record" ? "object" : issue.expected;
    return found === undefined
      ? `${where}required ${expected} is missing`
      : `${where}expected ${expected}, got ${describe(found)}`;
  }
  if (issue.code === "invalid_union") {
    return `${where}unexpected ${describe(valueAt(raw, issue.path))}`;
  }
  return `${where}${issue.message}`;
}

/** Parses `text` as JSON and validates it; throws ArtifactError naming `file`. */
export function parseArtifact<T extends z.ZodType>(file: string, text: string, schema: T): z.infer<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ArtifactError(
      file,
      `not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ArtifactError(file, `expected a JSON object, got ${describe(raw)}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const shown = issues.slice(0, 3).map((issue) => formatIssue(issue, raw));
    const more = issues.length > 3 ? ` (and ${issues.length - 3} more problems)` : "";
    throw new ArtifactError(file, shown.join("; ") + more);
  }
  return parsed.data;
}

/** The manifest schema version (10 for …/manifest/v10.json), or null when unreadable. */
export function manifestVersion(schemaVersion: string): number | null {
  const match = /manifest\/v(\d+)\.json$/.exec(schemaVersion.trim());
  return match ? Number(match[1]) : null;
}

export function parseManifest(file: string, text: string): Manifest {
  const manifest = parseArtifact(file, text, manifestSchema);
  const version = manifestVersion(manifest.metadata.dbt_schema_version);
  if (version === null || !(SUPPORTED_MANIFEST_VERSIONS as readonly number[]).includes(version)) {
    throw new ArtifactError(
      file,
      `metadata.dbt_schema_version: unsupported manifest schema: ${unsupportedManifestReason(version, manifest.metadata.dbt_schema_version)}`,
    );
  }
  return manifest;
}

export function parseCatalog(file: string, text: string): Catalog {
  return parseArtifact(file, text, catalogSchema);
}

export function parseRunResults(file: string, text: string): RunResults {
  return parseArtifact(file, text, runResultsSchema);
}

/** The command that wrote a run_results.json (`build`, `test`, `generate`, …), or null. */
export function runResultsCommand(results: RunResults): string | null {
  return results.args?.which ?? null;
}

export interface LoadedRunResults {
  file: string;
  results: RunResults;
}

/** A model's compiled SQL and the artifact it came from. */
export interface CompiledSql {
  sql: string;
  /** `manifest <file>` or `run_results <file>`. */
  source: string;
}

/** Everything the seeder reads, from one or more artifact dirs of one dbt project. */
export interface DbtArtifacts {
  /** The dbt project (metadata.project_name, else project_id, else the root package). */
  project: string;
  /** The newest manifest (by metadata.generated_at, then invocation_id) among the dirs. */
  manifest: Manifest;
  manifestFile: string;
  catalog: Catalog | null;
  catalogFile: string | null;
  /** Results of build/run/test/seed/snapshot invocations, oldest first (generated_at, invocation_id). */
  runResults: LoadedRunResults[];
  /**
   * Compiled SQL per node: the newest manifest's; where it has none (docs generate with
   * --no-compile, a manifest of `dbt parse`), the newest run_results.json's (build, run,
   * compile), else an older manifest's.
   */
  compiledCode: Map<string, CompiledSql>;
  /** run_results.json files left out (docs generate, compile, another project, …) and why. */
  ignored: { file: string; reason: string }[];
}

function readText(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new ArtifactError(
      file,
      `cannot be read (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

function timeOf(iso: string | null | undefined): number {
  const time = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(time) ? 0 : time;
}

/** Orders artifacts by their own clock: generated_at, then invocation_id (oldest first). */
function byGenerated(
  a: { generated_at?: string | null; invocation_id?: string | null },
  b: { generated_at?: string | null; invocation_id?: string | null },
): number {
  return (
    timeOf(a.generated_at) - timeOf(b.generated_at) ||
    (a.invocation_id ?? "").localeCompare(b.invocation_id ?? "")
  );
}

/** The dbt project a manifest belongs to. */
export function projectOf(manifest: Manifest): string {
  if (manifest.metadata.project_name) return manifest.metadata.project_name;
  // Before project_name (v11), the root package is the one most models belong to.
  const counts = new Map<string, number>();
  for (const node of Object.values(manifest.nodes)) {
    if (node.resource_type !== "model" || !node.package_name) continue;
    counts.set(node.package_name, (counts.get(node.package_name) ?? 0) + 1);
  }
  const root = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
  return root ?? manifest.metadata.project_id ?? "unknown project";
}

type LoadedManifest = { file: string; dir: string; manifest: Manifest };

/** Every artifact file in `dirs`, parsed; run_results.json of commands that build nothing set apart. */
function readArtifactDirs(dirs: readonly string[]) {
  const manifests: LoadedManifest[] = [];
  const catalogs: { file: string; catalog: Catalog }[] = [];
  const loaded: LoadedRunResults[] = [];
  const compileResults: LoadedRunResults[] = [];
  const ignored: { file: string; reason: string }[] = [];
  for (const dir of dirs) {
    const manifestFile = join(dir, "manifest.json");
    if (existsSync(manifestFile))
      manifests.push({
        file: manifestFile,
        dir,
        manifest: parseManifest(manifestFile, readText(manifestFile)),
      });
    const catalogFile = join(dir, "catalog.json");
    if (existsSync(catalogFile))
      catalogs.push({ file: catalogFile, catalog: parseCatalog(catalogFile, readText(catalogFile)) });
    const resultsFile = join(dir, "run_results.json");
    if (existsSync(resultsFile)) {
      const parsed = parseRunResults(resultsFile, readText(resultsFile));
      const command = runResultsCommand(parsed);
      if (command !== null && COMPILE_COMMANDS.has(command)) {
        compileResults.push({ file: resultsFile, results: parsed });
        ignored.push({
          file: resultsFile,
          reason: `written by 'dbt ${command}', which builds and tests nothing (its compiled SQL is used)`,
        });
      } else if (command !== null && !RESULT_COMMANDS.has(command)) {
        const spelled = command === "generate" || command === "serve" ? `docs ${command}` : command;
        ignored.push({
          file: resultsFile,
          reason: `written by 'dbt ${spelled}', which builds and tests nothing`,
        });
      } else {
        loaded.push({ file: resultsFile, results: parsed });
      }
    }
  }
  return { manifests, catalogs, loaded, compileResults, ignored };
}

/**
 * The one project of the manifests. One project per seed: a second project's artifacts
 * would be half-seeded (its manifest ignored, its runs written), so they are refused with
 * what to do.
 */
function oneProject(manifests: readonly LoadedManifest[]): string {
  const projects = new Map<string, string[]>();
  for (const { dir, manifest } of manifests) {
    const project = projectOf(manifest);
    projects.set(project, [...(projects.get(project) ?? []), dir]);
  }
  if (projects.size > 1) {
    const listed = [...projects.entries()].map(([project, in_]) => `'${project}' (${in_.join(", ")})`);
    throw new Error(
      `the artifact dirs hold ${projects.size} dbt projects: ${listed.join("; ")}. ` +
        "Seed each project on its own (one catalog:seed run, or one CatalogSeed, per project).",
    );
  }
  return [...projects.keys()][0] as string;
}

/**
 * The run results of `project`, oldest first. Run results of another project (no manifest
 * of theirs here) are not this project's runs: they go to `ignored`, with the reason.
 */
function projectRunResults(
  loaded: readonly LoadedRunResults[],
  manifests: readonly LoadedManifest[],
  project: string,
  ignored: { file: string; reason: string }[],
): LoadedRunResults[] {
  const known = new Set<string>();
  for (const { manifest } of manifests) {
    for (const id of Object.keys(manifest.nodes)) known.add(id);
    for (const id of Object.keys(manifest.sources ?? {})) known.add(id);
  }
  const runResults: LoadedRunResults[] = [];
  for (const entry of loaded) {
    const ids = entry.results.results.map((r) => r.unique_id);
    if (ids.length > 0 && !ids.some((id) => known.has(id))) {
      ignored.push({
        file: entry.file,
        reason: `none of its ${ids.length} results is a node of project '${project}' (e.g. ${ids[0]}): the run_results.json of another project`,
      });
    } else {
      runResults.push(entry);
    }
  }
  return runResults.sort((a, b) => byGenerated(a.results.metadata, b.results.metadata));
}

/**
 * Each node's compiled SQL and where it came from. Lowest precedence first, later sets win:
 * the older manifests, then the run results by age, then the newest manifest.
 */
function compiledSqlOf(
  manifests: readonly LoadedManifest[],
  results: readonly LoadedRunResults[],
): Map<string, CompiledSql> {
  const newest = manifests[manifests.length - 1] as LoadedManifest;
  const compiledCode = new Map<string, CompiledSql>();
  for (const { file, manifest } of manifests.slice(0, -1)) {
    for (const node of Object.values(manifest.nodes)) {
      const sql = node.compiled_code ?? node.compiled_sql;
      if (sql) compiledCode.set(node.unique_id, { sql, source: `manifest ${file}` });
    }
  }
  for (const { file, results: set } of [...results].sort((a, b) =>
    byGenerated(a.results.metadata, b.results.metadata),
  )) {
    for (const result of set.results) {
      const sql = result.compiled_code ?? result.compiled_sql;
      if (sql) compiledCode.set(result.unique_id, { sql, source: `run_results ${file}` });
    }
  }
  for (const node of Object.values(newest.manifest.nodes)) {
    const sql = node.compiled_code ?? node.compiled_sql;
    if (sql) compiledCode.set(node.unique_id, { sql, source: `manifest ${newest.file}` });
  }
  return compiledCode;
}

/**
 * Reads the artifacts of `dirs` (absolute, or relative to `baseDir`). The newest
 * manifest and catalog win; every run_results.json of a build-like command is kept.
 * The dirs must hold one dbt project: artifacts of several are refused, naming the
 * project of each dir (seed each project on its own).
 */
export function loadArtifacts(dirs: readonly string[], baseDir = process.cwd()): DbtArtifacts {
  if (dirs.length === 0)
    throw new Error("no artifact dirs given: pass the dbt target dir(s) of the runs to seed from");
  const absolute = dirs.map((dir) => (isAbsolute(dir) ? dir : resolve(baseDir, dir)));
  for (const dir of absolute) {
    if (!existsSync(dir))
      throw new Error(`artifact dir ${dir} does not exist (run dbt first, or fix the path)`);
  }

  const { manifests, catalogs, loaded, compileResults, ignored } = readArtifactDirs(absolute);
  if (manifests.length === 0) {
    throw new Error(
      `no manifest.json in ${absolute.join(", ")}: pass the target dir of a dbt build or docs generate`,
    );
  }
  const project = oneProject(manifests);
  manifests.sort((a, b) => byGenerated(a.manifest.metadata, b.manifest.metadata));
  const newest = manifests[manifests.length - 1] as LoadedManifest;
  const runResults = projectRunResults(loaded, manifests, project, ignored);
  const compiledCode = compiledSqlOf(manifests, [...compileResults, ...runResults]);

  catalogs.sort(
    (a, b) => timeOf(a.catalog.metadata?.generated_at) - timeOf(b.catalog.metadata?.generated_at),
  );
  const catalog = catalogs[catalogs.length - 1] ?? null;

  return {
    project,
    manifest: newest.manifest,
    manifestFile: newest.file,
    catalog: catalog?.catalog ?? null,
    catalogFile: catalog?.file ?? null,
    runResults,
    compiledCode,
    ignored,
  };
}
