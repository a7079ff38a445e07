/**
 * The warm dbt process started, and the project parsed, before the first stage needs
 * them: when a deployment's provider process loads its first provider (the migrations
 * come first), dbt's start and parse overlap the steps before the data stack's stages.
 *
 * The parse needs the arguments and the connection the stages will use, which the
 * provider process learns only when the first stage runs. So each DbtStage run records
 * them (without the password: no parse depends on it, see manifestKey) in
 * `<project>/target/warm-parse.json`, and the next provider process parses ahead with
 * the last record. When the record no longer matches (other vars, target or connection,
 * or a project file changed since: the manifest key hashes every file when the stage
 * runs), the stage parses again as it would have without the parse ahead.
 *
 * One record per project dir: the last stage run from this clone, whichever stack ran it.
 * A deployment of another stack then parses ahead for nothing (in the recorded stack's
 * parse dir, the same content that stack's own stages write there) and its first stage
 * parses as before.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { PgConnection } from "../postgres/connection.ts";
import { findDbt, parseAhead, type DbtOptions } from "./cli.ts";
import { pythonBeside, serveWarmDbt, startWarm, useSharedWarmDbt, type SharedWarmDbt } from "./warm.ts";

interface ParseRecord {
  projectDir: string;
  vars: Record<string, unknown>;
  target: string;
  parseTargetPath: string;
  connection: Omit<PgConnection, "password">;
}

/** Where a project's last warm parse is recorded. */
export function parseRecordPath(projectDir: string): string {
  return join(projectDir, "target", "warm-parse.json");
}

/** Records how a warm stage run parses the project, for the next process's {@link prewarmDbt}. */
export function rememberParse(options: DbtOptions & { parseTargetPath: string }): void {
  const { password: _password, ...connection } = options.connection;
  const record: ParseRecord = {
    projectDir: options.projectDir,
    vars: options.vars ?? {},
    target: options.target ?? "local",
    parseTargetPath: options.parseTargetPath,
    connection,
  };
  const path = parseRecordPath(options.projectDir);
  mkdirSync(dirname(path), { recursive: true });
  // Whole or not at all: another provider process may be reading it (a rename replaces atomically).
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(partial, path);
}

/**
 * Starts the project's warm dbt process and parses ahead as the last recorded stage run
 * did; does nothing when no stage ran from this project dir yet (so a process that never
 * runs a stage starts no dbt). Never throws: whatever fails here, the stage meets again
 * and reports. Resolves when the parse is done (callers need not wait).
 *
 * `shared`: the deployment's provider process. It runs its stages in the warm process
 * the main job started ahead ({@link serveDbtAhead}) when there is one, and parses ahead
 * there (nothing to do when the main job's parse ahead matches), else in its own.
 */
export async function prewarmDbt(projectDir: string, options: { shared?: boolean } = {}): Promise<boolean> {
  if (options.shared) useSharedWarmDbt();
  try {
    const path = parseRecordPath(projectDir);
    if (!existsSync(path)) return false;
    const record = JSON.parse(readFileSync(path, "utf8")) as ParseRecord;
    if (record.projectDir !== projectDir) return false;
    const python = pythonBeside(findDbt(projectDir));
    if (!python) return false;
    startWarm(python, projectDir);
    return await parseAhead({
      command: "build",
      projectDir,
      // The password is not part of the parse (nor of the manifest key); dbt's profile needs a value.
      connection: { ...record.connection, password: "unused-by-the-parse" },
      vars: record.vars,
      target: record.target,
      parseTargetPath: record.parseTargetPath,
      warm: true,
    });
  } catch {
    return false;
  }
}

/**
 * For the main job, before its deployment: starts the project's warm dbt process as a
 * shared one (lib/dbt/warm.ts, serveWarmDbt), which the deployment's provider process
 * then runs its stages in, and parses ahead in it as the last stage run recorded. dbt's
 * start and parse (about 2 s) then overlap everything before the first stage: the
 * Pulumi engine's start, the program, the steps before the stages. Without it, they
 * overlap only the provider process's part of that (about 1 s in a re-deployment).
 *
 * Resolves once the process listens (the parse goes on in the background), with what
 * stops it at the end of the main job; null when nothing was started (no stage ran from
 * this project dir yet, no dbt venv, or another main job's process serves the project).
 */
export async function serveDbtAhead(projectDir: string): Promise<SharedWarmDbt | null> {
  try {
    if (!existsSync(parseRecordPath(projectDir))) return null;
    const python = pythonBeside(findDbt(projectDir));
    if (!python) return null;
    const served = await serveWarmDbt(python, projectDir);
    if (!served) return null;
    // The parse ahead, as one of its clients (held for the parse only: the provider
    // process, served one client at a time, then gets it).
    void prewarmDbt(projectDir, { shared: true });
    return served;
  } catch {
    return null;
  }
}
