/**
 * A warm dbt process per dbt install and project (dbt-server.py, driven over stdin and
 * stdout): consecutive invocations in one Node process (the four stages of a deployment,
 * `npm run dbt -- all`, the benchmark) pay Python's start, dbt's imports and the project
 * parse once instead of once each.
 *
 * Each invocation still has its own arguments, environment, target path, artifacts and
 * outcome, exactly as a CLI run. The process handles one invocation at a time (callers
 * queue); it is not kept alive by itself (the Node process may exit while it idles, and
 * it ends when its stdin closes). A stopped invocation (abort, or the process killed)
 * discards the process; the next invocation starts a new one.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SERVER = fileURLToPath(new URL("../../python/dbt/dbt-server.py", import.meta.url));
const DONE = "\u0000aiwb-dbt-done ";

export interface WarmRequest {
  /** The invocation; null: only parse (keep the manifest for the next invocations, run nothing). */
  args: string[] | null;
  /** The `dbt parse` that makes the manifest `args` runs on. */
  parseArgs: string[];
  env: Record<string, string>;
  /** Same key, same parsed project: the manifest is reused. */
  manifestKey: string;
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

export interface WarmOutcome {
  success: boolean;
  /** dbt's exception text, when it raised one. */
  error: string | null;
  /** Whether this invocation parsed the project (false: the kept manifest was reused). */
  parsed: boolean;
  /** The signal that ended the process during this invocation, if one did. */
  signal: string | null;
  /** The process's exit code when it ended during this invocation without a signal. */
  exitCode: number | null;
}

/** The Python beside a venv's dbt executable, or null (dbt not from a venv: no warm process). */
export function pythonBeside(dbt: string): string | null {
  const python = join(dirname(dbt), "python");
  return existsSync(python) ? python : null;
}

interface Pending {
  onLine: (line: string) => void;
  settle: (outcome: WarmOutcome) => void;
}

class WarmProcess {
  private readonly child: ChildProcess;
  private pending: Pending | null = null;
  exited = false;

  constructor(python: string, cwd: string) {
    this.child = spawn(python, ["-u", SERVER], { cwd, stdio: ["pipe", "pipe", "pipe"] });
    this.child.on("error", (error) => this.end(null, null, `could not start dbt: ${error.message}`));
    this.child.on("exit", (code, signal) => this.end(code, signal, null));
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => this.line(line));
    }
    this.idle();
  }

  private line(line: string): void {
    const pending = this.pending;
    if (!pending) return;
    if (line.startsWith(DONE)) {
      const result = JSON.parse(line.slice(DONE.length)) as Pick<WarmOutcome, "success" | "error" | "parsed">;
      this.pending = null;
      pending.settle({ ...result, signal: null, exitCode: null });
      return;
    }
    pending.onLine(line);
  }

  private end(exitCode: number | null, signal: NodeJS.Signals | null, error: string | null): void {
    this.exited = true;
    const pending = this.pending;
    this.pending = null;
    pending?.settle({
      success: false,
      error: error ?? `the dbt process ended (${signal ?? `exit code ${exitCode}`})`,
      parsed: false,
      signal,
      exitCode,
    });
  }

  /** Neither the process nor its pipes keep Node alive while no invocation runs. */
  private idle(): void {
    this.child.unref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
  }

  private busy(): void {
    this.child.ref();
    for (const stream of [this.child.stdin, this.child.stdout, this.child.stderr]) {
      (stream as unknown as { ref?: () => void } | null)?.ref?.();
    }
  }

  send(request: WarmRequest): Promise<WarmOutcome> {
    return new Promise<WarmOutcome>((resolve) => {
      if (this.exited) {
        resolve({
          success: false,
          error: "the dbt process had ended",
          parsed: false,
          signal: null,
          exitCode: null,
        });
        return;
      }
      const abort = () => this.child.kill("SIGTERM");
      this.busy();
      this.pending = {
        onLine: request.onLine,
        settle: (outcome) => {
          request.signal?.removeEventListener("abort", abort);
          this.idle();
          resolve(outcome);
        },
      };
      if (request.signal?.aborted) abort();
      else request.signal?.addEventListener("abort", abort, { once: true });
      const { onLine: _onLine, signal: _signal, ...message } = request;
      this.child.stdin?.write(`${JSON.stringify(message)}\n`);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  close(): void {
    this.child.stdin?.end();
  }

  kill(): void {
    if (!this.exited) this.child.kill("SIGTERM");
  }
}

const processes = new Map<string, WarmProcess>();
const queues = new Map<string, Promise<unknown>>();
let exitHook = false;

/** The live warm process for (python, projectDir), started when there is none (or it has ended). */
function warmProcess(python: string, projectDir: string): WarmProcess {
  const key = `${python}\0${projectDir}`;
  let warm = processes.get(key);
  if (!warm || warm.exited) {
    warm = new WarmProcess(python, projectDir);
    processes.set(key, warm);
  }
  if (!exitHook) {
    // The warm processes end with this process, whatever ends it (process.exit included):
    // an idle one would also end when its stdin closes, but one still starting or parsing
    // ahead would first finish that. (A SIGKILL of this process: dbt-server.py watches its
    // parent.)
    exitHook = true;
    process.once("exit", () => {
      for (const each of processes.values()) each.kill();
    });
  }
  return warm;
}

/**
 * Starts the warm process for (python, projectDir) now, if there is none, so that
 * Python's start and dbt's imports overlap the caller's other work; the next invocation
 * finds it ready. Never keeps this process alive.
 */
export function startWarm(python: string, projectDir: string): void {
  const key = `${python}\0${projectDir}`;
  queues.set(
    key,
    (queues.get(key) ?? Promise.resolve()).then(() => {
      warmProcess(python, projectDir);
    }),
  );
}

/**
 * Runs one invocation in the warm process for (python, projectDir), after the ones
 * already queued there; starts the process if there is none (or it has ended).
 */
export function invokeWarm(python: string, projectDir: string, request: WarmRequest): Promise<WarmOutcome> {
  const key = `${python}\0${projectDir}`;
  const run = (queues.get(key) ?? Promise.resolve()).then(() =>
    warmProcess(python, projectDir).send(request),
  );
  queues.set(
    key,
    run.catch(() => undefined),
  );
  return run;
}

/** Process ids of the warm dbt processes alive now, of one project dir or all (for tests and diagnostics). */
export function warmPids(projectDir?: string): number[] {
  return [...processes.entries()]
    .filter(
      ([key, warm]) =>
        !warm.exited && warm.pid !== undefined && (!projectDir || key.endsWith(`\0${projectDir}`)),
    )
    .map(([, warm]) => warm.pid as number);
}

/** Ends every warm process once its current invocation is done (their stdin closes). */
export function closeWarmDbt(): void {
  for (const warm of processes.values()) warm.close();
  processes.clear();
}
