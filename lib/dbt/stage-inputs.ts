/**
 * What a dbt stage's result depends on, as one hash: the stage's models, every macro and
 * seed, the project and profile files, the vars and the target. A stage re-runs when
 * this changes (or when its upstream stage or data re-ran), and not otherwise.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { Layer } from "./cli.ts";

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((entry) => {
      const path = join(dir, entry);
      return statSync(path).isDirectory() ? filesUnder(path) : [path];
    });
}

/** The files a stage's build reads, relative to the project dir, sorted. */
export function stageFiles(projectDir: string, layer: Layer): string[] {
  const files = [
    ...filesUnder(join(projectDir, "models", layer)),
    ...filesUnder(join(projectDir, "macros")),
    ...filesUnder(join(projectDir, "seeds")),
    ...filesUnder(join(projectDir, "tests")),
    join(projectDir, "dbt_project.yml"),
    join(projectDir, "profiles.yml"),
  ].filter((file) => existsSync(file));
  return files.map((file) => relative(projectDir, file)).sort();
}

/** Every file a parse of the project reads, relative to the project dir, sorted. */
export function projectFiles(projectDir: string): string[] {
  const files = [
    ...filesUnder(join(projectDir, "models")),
    ...filesUnder(join(projectDir, "macros")),
    ...filesUnder(join(projectDir, "seeds")),
    ...filesUnder(join(projectDir, "tests")),
    ...filesUnder(join(projectDir, "analyses")),
    ...filesUnder(join(projectDir, "snapshots")),
    join(projectDir, "dbt_project.yml"),
    join(projectDir, "profiles.yml"),
    join(projectDir, "packages.yml"),
    join(projectDir, "dependencies.yml"),
  ].filter((file) => existsSync(file));
  return files.map((file) => relative(projectDir, file)).sort();
}

export function stageInputsHash(
  projectDir: string,
  layer: Layer,
  vars: Record<string, unknown>,
  target: string,
): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ layer, target, vars: Object.entries(vars).sort() }));
  for (const file of stageFiles(projectDir, layer)) {
    hash.update(`\0${file}\0`);
    hash.update(readFileSync(join(projectDir, file)));
  }
  return hash.digest("hex");
}
