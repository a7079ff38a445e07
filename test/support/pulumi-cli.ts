/**
 * Running the Pulumi CLI the way a platform engineer does: from a plain shell
 * environment (PATH with node and pulumi, HOME, a passphrase), in a checkout of the
 * project, with no NODE_OPTIONS, no tsx preloaded and no variable from our scripts.
 *
 * The Node.js language host: the official `pulumi-language-nodejs` when one is installed
 * (next to the CLI or on PATH); otherwise the test stand-in in ./language-host, put on
 * PATH for these runs only.
 */
import { cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { execa } from "execa";
import { cacheDir, REPO_ROOT } from "../../stacks/workspace.ts";

export const STAND_IN_DIR = join(REPO_ROOT, "test/support/language-host");
export const PULUMI_BIN = join(cacheDir(), "bin", "pulumi");

/** The official Node.js language host, when installed (the CLI looks beside itself, then on PATH). */
export function officialLanguageHost(): string | undefined {
  const dirs = [dirname(PULUMI_BIN), ...(process.env["PATH"] ?? "").split(":")];
  return dirs
    .filter((dir) => dir !== "" && dir !== STAND_IN_DIR)
    .map((dir) => join(dir, "pulumi-language-nodejs"))
    .find((candidate) => existsSync(candidate));
}

/** A plain shell environment for the CLI: nothing but PATH, HOME, the cache location and `extra`. */
export function plainEnv(extra: Record<string, string> = {}): Record<string, string> {
  const path = [
    ...(officialLanguageHost() ? [] : [STAND_IN_DIR]),
    dirname(process.execPath),
    dirname(PULUMI_BIN),
    "/usr/local/bin",
    "/usr/bin",
    "/bin",
  ];
  const env: Record<string, string> = {
    PATH: path.join(":"),
    HOME: process.env["HOME"] ?? tmpdir(),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    ...extra,
  };
  // Where the toolchain cache is when the user moved it (dbt's venv is found there).
  if (process.env["XDG_CACHE_HOME"]) env["XDG_CACHE_HOME"] = process.env["XDG_CACHE_HOME"];
  return env;
}

const NOT_COPIED = new Set(["node_modules", ".git", "dbt/target", "dbt/logs", "dbt/dbt_packages"]);

/** A checkout of this project at `dest` (the working tree, without build output), sharing node_modules. */
export function copyProject(dest: string): string {
  mkdirSync(dest, { recursive: true });
  cpSync(REPO_ROOT, dest, {
    recursive: true,
    filter: (source) => !NOT_COPIED.has(relative(REPO_ROOT, source)),
  });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dest, "node_modules"));
  return dest;
}

export interface CliResult {
  exitCode: number;
  /** stdout and stderr, interleaved. */
  output: string;
  stdout: string;
}

/** Runs `pulumi <args>` in `cwd` with exactly `env`. */
export async function pulumi(
  args: string[],
  options: { cwd: string; env: Record<string, string>; input?: string },
): Promise<CliResult> {
  const result = await execa(PULUMI_BIN, args, {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    reject: false,
    all: true,
    ...(options.input !== undefined ? { input: options.input } : { stdin: "ignore" }),
  });
  return { exitCode: result.exitCode ?? -1, output: result.all ?? "", stdout: result.stdout ?? "" };
}
