/**
 * No provider work outlives the command that started it.
 *
 * `npm run local` exports its process id as AIWB_SUPERVISOR_PID; the Pulumi CLI and the
 * dynamic-provider process inherit it. A SIGKILL of `npm run local` cannot be caught,
 * and the provider process (a grandchild) would keep loading data or running dbt for
 * minutes. Here the provider watches that pid: once it is gone, the registered cleanups
 * run (stop dbt, close the job_runs row), then the process exits. An open loader
 * transaction is rolled back by the server when the connection closes, so a batch is
 * either whole or absent.
 */

const POLL_MS = 500;
const CLEANUP_GRACE_MS = 10_000;

type Cleanup = (reason: string) => Promise<void> | void;

const cleanups = new Set<Cleanup>();
const controller = new AbortController();
let watching = false;

function supervisorPid(): number | null {
  const raw = process.env["AIWB_SUPERVISOR_PID"];
  const pid = raw ? Number(raw) : NaN;
  return Number.isInteger(pid) && pid > 1 ? pid : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else - still alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

let stopping = false;

/** Stops the work in flight: aborts it, runs the registered cleanups, then exits. */
async function stop(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  controller.abort(new Error(reason));
  const timer = setTimeout(() => process.exit(1), CLEANUP_GRACE_MS);
  timer.unref();
  await Promise.allSettled([...cleanups].map(async (cleanup) => cleanup(reason)));
  process.exit(1);
}

function watch(): void {
  if (watching) return;
  const pid = supervisorPid();
  if (pid === null) return;
  watching = true;
  const poll = setInterval(() => {
    if (!alive(pid)) {
      clearInterval(poll);
      void stop(`interrupted: the command that started this run (process ${pid}) has ended`);
    }
  }, POLL_MS);
  poll.unref();
  // The supervisor asks first when it can: `npm run local`, stopping at once, sends this
  // and waits for the provider to exit before it stops the engine. Without the wait, the
  // engine (its program gone) kills the provider before the poll above has noticed, and
  // the stage's job_runs row would stay `running`.
  process.once("SIGTERM", () => {
    void stop(`interrupted: the command that started this run (process ${pid}) is stopping`);
  });
}

/**
 * Aborted when the supervising command has ended (never, when there is none). Long
 * work passes it on (e.g. to dbt, which it stops).
 */
export function supervisorSignal(): AbortSignal {
  watch();
  return controller.signal;
}

/** Runs `cleanup` if the supervising command ends while `work` runs, then exits. */
export async function guarded<T>(work: () => Promise<T>, cleanup?: Cleanup): Promise<T> {
  watch();
  if (cleanup) cleanups.add(cleanup);
  try {
    return await work();
  } finally {
    if (cleanup) cleanups.delete(cleanup);
  }
}
