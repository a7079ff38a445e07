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
 *
 * A process that opts in ({@link useSharedWarmDbt}: the deployment's provider process)
 * first looks for a warm dbt process another process of this user started ahead and
 * serves on a Unix socket ({@link serveWarmDbt}: the main job, before its deployment),
 * and runs its invocations there: dbt's start and parse then overlap the whole
 * deployment before the stages, not only the provider process's part of it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SERVER = fileURLToPath(new URL("../../python/dbt/dbt-server.py", import.meta.url));
const DONE = "\u0000aiwb-dbt-done ";
const HELLO = "\u0000aiwb-dbt-hello ";
/**
 * How long a client waits for a shared process to take its connection: it serves one
 * client at a time, and the main job's own parse ahead (a full parse after a reset:
 * several seconds) comes first.
 */
const SHARED_WAIT_MS = 20_000;

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

/** How a warm process is reached: its own child (stdin/stdout), or a shared one's socket. */
type Channel =
  | { kind: "child"; child: ChildProcess }
  | { kind: "shared"; socket: Socket; pid: number; lines: ReturnType<typeof createInterface> };

class WarmProcess {
  private pending: Pending | null = null;
  private stoppedWith: NodeJS.Signals | null = null;
  exited = false;

  constructor(private readonly channel: Channel) {
    if (channel.kind === "child") {
      const { child } = channel;
      child.on("error", (error) => this.end(null, null, `could not start dbt: ${error.message}`));
      child.on("exit", (code, signal) => this.end(code, signal, null));
      for (const stream of [child.stdout, child.stderr]) {
        if (!stream) continue;
        createInterface({ input: stream, crlfDelay: Infinity }).on("line", (line) => this.line(line));
      }
    } else {
      channel.lines.on("line", (line) => this.line(line));
      channel.socket.on("close", () =>
        this.end(
          null,
          this.stoppedWith,
          this.stoppedWith ? null : "the shared dbt process closed the connection",
        ),
      );
      channel.socket.on("error", () => undefined); // "close" follows and reports it
    }
    this.idle();
  }

  /** Starts a warm dbt process of this process's own. */
  static spawn(python: string, cwd: string): WarmProcess {
    return new WarmProcess({
      kind: "child",
      child: spawn(python, ["-u", SERVER], { cwd, stdio: ["pipe", "pipe", "pipe"] }),
    });
  }

  /**
   * Connects to the shared warm process listening at `path`; null when there is none,
   * or it does not take the connection within `waitMs` (it serves another client).
   */
  static connect(path: string, waitMs: number): Promise<WarmProcess | null> {
    return new Promise((resolve) => {
      const socket = connect(path);
      const lines = createInterface({ input: socket, crlfDelay: Infinity });
      const give = (warm: WarmProcess | null) => {
        clearTimeout(timer);
        socket.off("error", refused);
        socket.off("close", refused);
        lines.off("line", hello);
        if (!warm) {
          lines.close();
          socket.destroy();
        }
        resolve(warm);
      };
      const refused = () => give(null);
      const hello = (line: string) => {
        let pid: unknown = null;
        try {
          if (line.startsWith(HELLO)) pid = (JSON.parse(line.slice(HELLO.length)) as { pid?: unknown }).pid;
        } catch {
          pid = null; // not this protocol: not used
        }
        give(typeof pid === "number" ? new WarmProcess({ kind: "shared", socket, pid, lines }) : null);
      };
      const timer = setTimeout(() => give(null), waitMs);
      // readline passes its input's errors on: the socket's own listeners report them.
      lines.on("error", () => undefined);
      socket.on("error", refused);
      socket.once("close", refused);
      lines.once("line", hello);
    });
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
    if (this.exited) return;
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

  /** What keeps Node alive while it is referenced (pipes are sockets underneath, with ref/unref). */
  private handles(): { ref?: () => void; unref?: () => void }[] {
    const { channel } = this;
    if (channel.kind === "shared") return [channel.socket];
    const { child } = channel;
    return [child, ...[child.stdin, child.stdout, child.stderr].filter((stream) => stream !== null)] as {
      ref?: () => void;
      unref?: () => void;
    }[];
  }

  /** Neither the process nor its pipes keep Node alive while no invocation runs. */
  private idle(): void {
    for (const handle of this.handles()) handle.unref?.();
  }

  private busy(): void {
    for (const handle of this.handles()) handle.ref?.();
  }

  private write(line: string): void {
    if (this.channel.kind === "child") this.channel.child.stdin?.write(line);
    else this.channel.socket.write(line);
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
      const abort = () => this.stop();
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
      this.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Whether this is another process's shared warm process (reached through its socket). */
  get shared(): boolean {
    return this.channel.kind === "shared";
  }

  get pid(): number | undefined {
    return this.channel.kind === "child" ? this.channel.child.pid : this.channel.pid;
  }

  /** Done with it: its own process ends (stdin closed); a shared one is only disconnected. */
  close(): void {
    if (this.channel.kind === "child") this.channel.child.stdin?.end();
    else this.channel.socket.end();
  }

  /**
   * Stops the invocation in flight the way a stopped CLI run stops: SIGTERM to dbt, which
   * ends it (PostgreSQL rolls back what it had not committed when its connections drop).
   * A shared process is stopped too: it cannot stop only the invocation, and the next
   * invocation starts a process of this one's own.
   */
  stop(): void {
    if (this.exited) return;
    if (this.channel.kind === "child") {
      this.channel.child.kill("SIGTERM");
      return;
    }
    this.stoppedWith = "SIGTERM";
    try {
      process.kill(this.channel.pid, "SIGTERM");
    } catch {
      this.channel.socket.destroy();
    }
  }

  /** This process is exiting: its own dbt process ends with it; a shared one is left to its owner. */
  release(): void {
    if (this.exited) return;
    if (this.channel.kind === "child") this.channel.child.kill("SIGTERM");
    else this.channel.socket.destroy();
  }
}

const processes = new Map<string, WarmProcess>();
const queues = new Map<string, Promise<unknown>>();
let exitHook = false;

let shared = false;

/**
 * This process runs its warm invocations in the shared warm process its main job started
 * ({@link serveWarmDbt}; the main job is AIWB_SUPERVISOR_PID, which the main job sets and
 * the deployment's processes inherit), when there is one, instead of starting its own.
 * The deployment's provider process opts in, and the main job itself for its parse
 * ahead; another run (`npm run dbt`, a `pulumi up` of its own, another main job) never
 * finds it, as each main job's process has its own socket.
 */
export function useSharedWarmDbt(): void {
  shared = true;
}

/**
 * The socket the shared warm process for (python, projectDir) that main job `owner`
 * started listens on: in a directory of this user's own (made 0700, refused when it is
 * anything else), named by the three. Null when that directory cannot be had safely
 * (then nothing is shared).
 */
function sharedSocketPath(python: string, projectDir: string, owner: number): string | null {
  const uid = process.getuid?.();
  if (uid === undefined) return null;
  const dir = join(tmpdir(), `aiwb-dbt-${uid}`);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) return null;
  } catch {
    return null;
  }
  const name = createHash("sha256").update(`${python}\0${projectDir}\0${owner}`).digest("hex").slice(0, 16);
  return join(dir, `${name}.sock`);
}

/** The socket of this run's main job's shared process for (python, projectDir), when this process uses them and one is there. */
function sharedSocket(python: string, projectDir: string): string | null {
  const owner = Number(process.env["AIWB_SUPERVISOR_PID"]);
  if (!shared || !Number.isInteger(owner) || owner <= 0) return null;
  const socket = sharedSocketPath(python, projectDir, owner);
  return socket && existsSync(socket) ? socket : null;
}

/** The live warm process for (python, projectDir): a shared one when this process uses them and one serves, else its own (started when there is none, or it has ended). */
async function warmProcess(python: string, projectDir: string): Promise<WarmProcess> {
  const key = `${python}\0${projectDir}`;
  let warm = processes.get(key);
  if (!warm || warm.exited) {
    const socket = sharedSocket(python, projectDir);
    warm =
      (socket ? await WarmProcess.connect(socket, SHARED_WAIT_MS) : null) ??
      WarmProcess.spawn(python, projectDir);
    processes.set(key, warm);
  }
  if (!exitHook) {
    // The warm processes end with this process, whatever ends it (process.exit included):
    // an idle one would also end when its stdin closes, but one still starting or parsing
    // ahead would first finish that. (A SIGKILL of this process: dbt-server.py watches its
    // parent.) A shared one is only disconnected: its owner ends it.
    exitHook = true;
    process.once("exit", () => {
      for (const each of processes.values()) each.release();
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
    (queues.get(key) ?? Promise.resolve()).then(async () => {
      // A shared process is started already: nothing to start, nor to hold.
      if (sharedSocket(python, projectDir)) return;
      await warmProcess(python, projectDir);
    }),
  );
}

/**
 * Runs one invocation in the warm process for (python, projectDir), after the ones
 * already queued there; starts the process if there is none (or it has ended).
 */
export function invokeWarm(python: string, projectDir: string, request: WarmRequest): Promise<WarmOutcome> {
  const key = `${python}\0${projectDir}`;
  const run = (queues.get(key) ?? Promise.resolve()).then(async () => {
    const warm = await warmProcess(python, projectDir);
    try {
      return await warm.send(request);
    } finally {
      // A shared process serves one client at a time: it is held for an invocation only
      // (another provider process of the same deployment may need it next).
      if (warm.shared) {
        warm.close();
        if (processes.get(key) === warm) processes.delete(key);
      }
    }
  });
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

/** Ends every warm process of this process's own once its current invocation is done (their stdin closes), and leaves the shared ones. */
export function closeWarmDbt(): void {
  for (const warm of processes.values()) warm.close();
  processes.clear();
}

/** A shared warm process this process started ({@link serveWarmDbt}). */
export interface SharedWarmDbt {
  pid: number;
  socket: string;
  /** Ends it after the invocation in flight, if any (its stdin closes); resolves when it has. */
  stop(): Promise<void>;
}

/**
 * Starts a warm dbt process for (python, projectDir) that serves the processes of this
 * run (AIWB_SUPERVISOR_PID: this process) on a Unix socket ({@link sharedSocketPath}),
 * one client at a time: the main job starts it before its deployment, and the
 * deployment's provider process runs the stages in it ({@link useSharedWarmDbt}). It
 * ends with this process, or by `stop()`.
 * Resolves once it listens; null when it cannot (no safe socket directory, another
 * process serves that socket already, or it did not start).
 */
export function serveWarmDbt(python: string, projectDir: string): Promise<SharedWarmDbt | null> {
  const socket = sharedSocketPath(python, projectDir, process.pid);
  if (!socket) return Promise.resolve(null);
  return new Promise((resolve) => {
    const child = spawn(python, ["-u", SERVER, "--listen", socket], {
      cwd: projectDir,
      stdio: ["pipe", "pipe", "ignore"],
    });
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    const stop = () => {
      child.ref(); // a caller waiting for the end keeps this process alive until then
      child.stdin?.end();
      return exited;
    };
    // Its stdin may be closed after it died (a stopped invocation kills it): not an error here.
    child.stdin?.on("error", () => undefined);
    const kill = () => child.kill("SIGTERM");
    process.once("exit", kill);
    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    let settled = false;
    const settle = (served: SharedWarmDbt | null) => {
      if (settled) return;
      settled = true;
      lines.close();
      child.stdout?.resume(); // whatever it prints later is not read
      child.unref();
      for (const stream of [child.stdin, child.stdout])
        (stream as unknown as { unref?: () => void } | null)?.unref?.();
      if (!served) process.off("exit", kill);
      resolve(served);
    };
    lines.once("line", (line) =>
      settle(line === "listening" && child.pid !== undefined ? { pid: child.pid, socket, stop } : null),
    );
    child.once("error", () => settle(null));
    child.once("exit", () => settle(null));
  });
}
