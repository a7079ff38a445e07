/**
 * A real n8n for the integration tests: the npm package from the cache
 * (scripts/install-n8n), its own tables in SQLite in a temporary directory or, as the N8n
 * component deploys it, in a PostgreSQL schema (`database`), loopback ports picked free,
 * telemetry, templates, version checks and every outbound feature off. Started once per
 * test file; `stop()` ends the whole process group (n8n and its task runner).
 */
import { execa } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { N8N_PAYLOAD_SIZE_MAX_MIB } from "../../components/kubernetes/n8n.ts";
import { REPO_ROOT } from "../../lib/paths.ts";

export interface N8nInstance {
  /** `http://127.0.0.1:<port>` */
  url: string;
  version: string;
  /** A public-API key of the owner (X-N8N-API-KEY). */
  apiKey: string;
  /** The last lines n8n printed (for failure messages). */
  log(): string;
  /** POSTs JSON to a production webhook; returns status and parsed body. */
  webhook(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: unknown }>;
  /** The error of the newest failed execution (node and message), for failure messages. */
  lastError(): Promise<string>;
  /** Waits until every path answers as a registered POST webhook. */
  waitForWebhooks(paths: readonly string[], timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Where n8n keeps its own tables when not in SQLite (DB_POSTGRESDB_*). */
export interface N8nPostgres {
  host: string;
  port: number;
  database: string;
  /** A login that may create tables in `schema` (the n8n login: a member of workbench_n8n). */
  user: string;
  password: string;
  /** DB_POSTGRESDB_SCHEMA: n8n's tables go here, never in public. */
  schema: string;
}

export interface N8nOptions {
  /** Extra environment for n8n (integration settings the workflows read). */
  env?: Record<string, string>;
  /** n8n's own tables in PostgreSQL; default SQLite in the temporary home. */
  database?: N8nPostgres;
  /** Startup budget; default 120 s (first start runs n8n's database migrations). */
  startTimeoutMs?: number;
}

/** n8n's DB_* settings: SQLite in its user folder, or a PostgreSQL schema. */
function databaseEnv(database: N8nPostgres | undefined): Record<string, string> {
  if (!database) return { DB_TYPE: "sqlite" };
  return {
    DB_TYPE: "postgresdb",
    DB_POSTGRESDB_HOST: database.host,
    DB_POSTGRESDB_PORT: String(database.port),
    DB_POSTGRESDB_DATABASE: database.database,
    DB_POSTGRESDB_USER: database.user,
    DB_POSTGRESDB_PASSWORD: database.password,
    DB_POSTGRESDB_SCHEMA: database.schema,
  };
}

/** A free TCP port on 127.0.0.1 (bound and released; n8n binds it right after). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Installs n8n into the cache when missing; returns the executable. */
export async function n8nExecutable(): Promise<string> {
  const result = await execa("bash", [join(REPO_ROOT, "scripts/install-n8n"), "--print-bin"], {
    reject: false,
  });
  if (result.exitCode !== 0)
    throw new Error(`scripts/install-n8n failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout.trim().split("\n").pop() as string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Modules that reach out to n8n's cloud services or are not needed here. */
const DISABLED_MODULES = [
  "mcp-registry",
  "mcp",
  "instance-ai",
  "chat-hub",
  "workflow-builder",
  "community-packages",
  "insights",
];

export async function startN8n(options: N8nOptions = {}): Promise<N8nInstance> {
  const bin = await n8nExecutable();
  const [port, brokerPort] = [await freePort(), await freePort()];
  const home = mkdtempSync(join(tmpdir(), "aiwb-n8n-"));
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    // n8n's launcher runs `node` from PATH: put this process's Node (>= 22) first.
    PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? ""}`,
    HOME: home,
    TZ: "UTC",
    GENERIC_TIMEZONE: "UTC",
    N8N_USER_FOLDER: home,
    N8N_ENCRYPTION_KEY: randomBytes(24).toString("hex"),
    ...databaseEnv(options.database),
    N8N_LISTEN_ADDRESS: "127.0.0.1",
    N8N_HOST: "127.0.0.1",
    N8N_PORT: String(port),
    N8N_PROTOCOL: "http",
    WEBHOOK_URL: `${url}/`,
    N8N_EDITOR_BASE_URL: `${url}/`,
    N8N_SECURE_COOKIE: "false",
    N8N_RUNNERS_MODE: "internal",
    N8N_RUNNERS_BROKER_PORT: String(brokerPort),
    N8N_RUNNERS_BROKER_LISTEN_ADDRESS: "127.0.0.1",
    N8N_RUNNERS_TASK_TIMEOUT: "60",
    // Nothing leaves the machine.
    N8N_DIAGNOSTICS_ENABLED: "false",
    N8N_DIAGNOSTICS_CONFIG_FRONTEND: "",
    N8N_DIAGNOSTICS_CONFIG_BACKEND: "",
    N8N_VERSION_NOTIFICATIONS_ENABLED: "false",
    N8N_TEMPLATES_ENABLED: "false",
    N8N_PERSONALIZATION_ENABLED: "false",
    N8N_HIRING_BANNER_ENABLED: "false",
    N8N_AI_ENABLED: "false",
    N8N_COMMUNITY_PACKAGES_ENABLED: "false",
    N8N_UNVERIFIED_PACKAGES_ENABLED: "false",
    N8N_LICENSE_AUTO_RENEW_ENABLED: "false",
    N8N_DISABLED_MODULES: DISABLED_MODULES.join(","),
    EXTERNAL_FRONTEND_HOOKS_URLS: "",
    N8N_PUBLIC_API_SWAGGERUI_DISABLED: "true",
    N8N_METRICS: "false",
    // As the N8n component deploys it: above the workflows' own 16 MiB body limit.
    N8N_PAYLOAD_SIZE_MAX: String(N8N_PAYLOAD_SIZE_MAX_MIB),
    // The workflows read their integration settings from the environment (see
    // n8n-workflows/README.md).
    N8N_BLOCK_ENV_ACCESS_IN_NODE: "false",
    N8N_LOG_LEVEL: "info",
    N8N_LOG_OUTPUT: "console",
    NODE_ENV: "production",
    ...options.env,
  };

  const child: ChildProcess = spawn(bin, ["start"], {
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited: number | null = null;
  child.on("exit", (code) => {
    exited = code ?? -1;
  });
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // Never outlive the test process, whatever happens to it.
  const onExit = () => killGroup("SIGKILL");
  process.once("exit", onExit);

  const log = () => lines.slice(-60).join("\n");
  const stop = async () => {
    process.removeListener("exit", onExit);
    if (exited === null) {
      killGroup("SIGTERM");
      const deadline = Date.now() + 15_000;
      while (exited === null && Date.now() < deadline) await sleep(100);
      if (exited === null) killGroup("SIGKILL");
      while (exited === null) await sleep(50);
    }
    // The task runner is in the same group; make sure it is gone too.
    killGroup("SIGKILL");
    rmSync(home, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
    for (;;) {
      if (exited !== null) throw new Error(`n8n exited with ${exited} while starting:\n${log()}`);
      if (Date.now() > deadline)
        throw new Error(`n8n did not become ready within the start budget:\n${log()}`);
      try {
        const ready = await fetch(`${url}/healthz/readiness`, { signal: AbortSignal.timeout(2000) });
        // Readiness answers once the database is migrated; the REST API is up with it.
        if (ready.ok && lines.some((line) => line.includes("Editor is now accessible"))) break;
      } catch {
        // not listening yet
      }
      await sleep(500);
    }
    const version = (lines.find((line) => /^Version: /.test(line)) ?? "Version: ?")
      .slice("Version: ".length)
      .trim();
    const apiKey = await createOwnerAndApiKey(url);

    return {
      url,
      version,
      apiKey,
      log,
      async webhook(path, body, headers = {}) {
        const response = await fetch(`${url}/webhook/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(60_000),
        });
        const text = await response.text();
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // keep the text
        }
        return { status: response.status, body: parsed };
      },
      async lastError() {
        const response = await fetch(`${url}/api/v1/executions?status=error&includeData=true&limit=1`, {
          headers: { "X-N8N-API-KEY": apiKey },
        });
        const page = (await response.json()) as {
          data?: {
            workflowId: string;
            data?: {
              resultData?: { error?: { message?: string; description?: string }; lastNodeExecuted?: string };
            };
          }[];
        };
        const execution = page.data?.[0];
        const result = execution?.data?.resultData;
        if (!execution) return "no failed execution";
        return `workflow ${execution.workflowId}, node '${result?.lastNodeExecuted}': ${result?.error?.message} ${result?.error?.description ?? ""}`;
      },
      async waitForWebhooks(paths, timeoutMs = 30_000) {
        const deadline = Date.now() + timeoutMs;
        for (const path of paths) {
          for (;;) {
            // A GET to a registered POST webhook says so; an unregistered one says it is not registered.
            const response = await fetch(`${url}/webhook/${path}`, { signal: AbortSignal.timeout(5000) });
            const text = await response.text();
            if (response.status !== 404 || /Did you mean to make a POST request/i.test(text)) break;
            if (Date.now() > deadline)
              throw new Error(`webhook ${path} is not active after ${timeoutMs} ms: ${text}\n${log()}`);
            await sleep(250);
          }
        }
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Sets up the owner account through the REST API and creates a public-API key for it. */
async function createOwnerAndApiKey(url: string): Promise<string> {
  const browserId = randomBytes(8).toString("hex");
  const password = `Aiwb-${randomBytes(9).toString("base64url")}1`;
  const setup = await fetch(`${url}/rest/owner/setup`, {
    method: "POST",
    headers: { "content-type": "application/json", "browser-id": browserId },
    body: JSON.stringify({
      email: "owner@example.test",
      firstName: "Workbench",
      lastName: "Tests",
      password,
    }),
  });
  if (!setup.ok) throw new Error(`n8n owner setup answered ${setup.status}: ${await setup.text()}`);
  const cookie = (setup.headers.getSetCookie?.() ?? []).map((c) => c.split(";")[0]).join("; ");
  const headers = { "content-type": "application/json", "browser-id": browserId, cookie };
  const scopesResponse = await fetch(`${url}/rest/api-keys/scopes`, { headers });
  if (!scopesResponse.ok)
    throw new Error(`n8n api-key scopes answered ${scopesResponse.status}: ${await scopesResponse.text()}`);
  const scopes = ((await scopesResponse.json()) as { data: string[] }).data;
  const created = await fetch(`${url}/rest/api-keys`, {
    method: "POST",
    headers,
    body: JSON.stringify({ label: "workbench tests", scopes, expiresAt: null }),
  });
  if (!created.ok)
    throw new Error(`n8n api-key creation answered ${created.status}: ${await created.text()}`);
  return ((await created.json()) as { data: { rawApiKey: string } }).data.rawApiKey;
}
