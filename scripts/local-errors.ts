/**
 * What `npm run local` tells the user when it fails: one `error:` prefix, the engine's
 * own error lines without repetition, and a hint that matches the cause (a killed dbt,
 * a database restart, a full disk and a failing model each get their own). Pure but for
 * the lock-file lookup, so the exact texts are testable.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/** The engine's error lines out of an Automation API failure (its message holds the whole log). */
export function engineErrors(message: string): string[] {
  const lines = message
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^error: /i.test(line) && !/^error: update failed$/i.test(line))
    // "error: error: write ECONNRESET": one prefix is enough.
    .map((line) => line.replace(/^(error:\s*)+/i, ""))
    .filter((line) => line.length > 0);
  return [...new Set(lines)].slice(0, 12);
}

/** Lock files of a stack under a file backend's state dir, newest first. */
export function stackLockFiles(stateDir: string, stackName: string): { path: string; written: Date }[] {
  const found: { path: string; written: Date }[] = [];
  const walk = (dir: string, depth: number) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && depth < 4) walk(path, depth + 1);
      else if (entry.isFile() && entry.name.endsWith(".json") && dir.endsWith(`/${stackName}`)) {
        found.push({ path, written: statSync(path).mtime });
      }
    }
  };
  walk(join(stateDir, ".pulumi", "locks"), 0);
  return found.sort((a, b) => b.written.getTime() - a.written.getTime());
}

/** The hint for a failure of `npm run local`, matching its cause; null when none fits. */
export function localFailureHint(
  message: string,
  lockFiles: readonly { path: string; written: Date }[],
): string | null {
  if (/invalid stack configuration/.test(message)) {
    return "fix the keys named above in Pulumi.local.yaml and re-run; nothing was changed.";
  }
  if (/locked by|stack is currently locked/i.test(message)) {
    if (lockFiles.length === 0) {
      return "another update held the stack lock; it is gone now: re-run.";
    }
    const files = lockFiles.map((lock) => `  rm '${lock.path}'   # written ${lock.written.toISOString()}`);
    return [
      "another update holds the stack lock. If no `npm run local` is running, the lock is stale: delete it",
      ...files,
      "and re-run (then `npm run local` clears any operation the interrupted run left pending).",
    ].join("\n");
  }
  if (/ stage: /.test(message)) {
    // The stage's own hint (lib/dbt/cli.ts dbtFailureHint) matches its cause;
    // here only the way to re-run differs.
    if (/was stopped by SIG/.test(message)) {
      return "dbt was stopped before it finished (each model commits or rolls back whole): re-run npm run local.";
    }
    if (/No space left on device|could not extend file/i.test(message)) {
      return "the database server ran out of disk space: free space on its data volume, then re-run npm run local.";
    }
    if (
      /server closed the connection|terminating connection|ECONNRESET|ECONNREFUSED|Connection terminated/i.test(
        message,
      )
    ) {
      return "PostgreSQL went away during the build (restarted or crashed): scripts/local-postgres status, then re-run npm run local.";
    }
    if (/landed row\(s\) are stuck/.test(message)) {
      return "rows are stuck in the medallion (named above): follow the 'to unblock' line, then re-run npm run local.";
    }
    return "a dbt model or test failed: fix the nodes named above (npm run dbt -- <stage> --stack local reruns one stage), then re-run.";
  }
  if (/ECONNRESET|Connection terminated unexpectedly|server closed the connection/i.test(message)) {
    return "PostgreSQL closed the connection mid-deployment (it crashed or was restarted): check it is up (scripts/local-postgres status), then re-run npm run local; it resumes where it stopped.";
  }
  if (/ECONNREFUSED|is not running/.test(message)) {
    return "PostgreSQL is not reachable: scripts/local-postgres start (its log: scripts/local-postgres status).";
  }
  return null;
}

/** The text a failed `npm run local` prints on stderr: one `error:` line block, then the hint. */
export function localFailureText(
  message: string,
  lockFiles: readonly { path: string; written: Date }[],
): string {
  const engine = engineErrors(message);
  const body = engine.length > 0 ? engine.join("\n       ") : message.replace(/^(error:\s*)+/i, "");
  const hint = localFailureHint(message, lockFiles);
  return `\nerror: ${body}${hint ? `\n${hint}` : ""}`;
}

/**
 * Removes this stack's lock files left by an engine that no longer runs on this machine
 * (an interrupted `npm run local`): same host, its pid gone. A live lock, or one from
 * another host, is never touched. Returns what was removed.
 */
export function removeStaleLocks(stateDir: string, stackName: string): { path: string; pid: number }[] {
  const removed: { path: string; pid: number }[] = [];
  for (const lock of stackLockFiles(stateDir, stackName)) {
    let owner: { pid?: unknown; hostname?: unknown };
    try {
      owner = JSON.parse(readFileSync(lock.path, "utf8")) as { pid?: unknown; hostname?: unknown };
    } catch {
      continue;
    }
    if (typeof owner.pid !== "number" || owner.hostname !== hostname()) continue;
    if (processAlive(owner.pid)) continue;
    rmSync(lock.path, { force: true });
    rmSync(`${lock.path}.attrs`, { force: true }); // the file backend's attributes beside it
    removed.push({ path: lock.path, pid: owner.pid });
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Writes a report file of a deployment that already succeeded and returns the summary line
 * to print. A report that cannot be written (read-only or missing cache, a file where the
 * directory should be) is named with its reason and does not turn the success into a failure.
 */
export function writeReport(label: string, dir: string, file: string, content: string): string {
  const path = join(dir, file);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, content);
    return `  ${label}: ${path}`;
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return `  ${label}: not written (${reason} on ${dir}; the deployment itself succeeded)`;
  }
}
