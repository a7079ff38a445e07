/**
 * The real LiteLLM proxy for tests: installs the pinned toolchain (scripts/install-litellm,
 * a no-op when cached), starts a private redis-server and the proxy from the cached venv on
 * free loopback ports, with config.yaml from the same generator and settings the cluster
 * deploys (only the endpoints differ), and stops both.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  copyFileSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { execa } from "execa";
import YAML from "yaml";
import { connectionUrl, type PgConnection } from "../../lib/postgres/connection.ts";
import {
  loginRoleProvider,
  type LoginRoleInputs,
  type LoginRoleOutputs,
} from "../../components/database/login-role.ts";
import { AUTOMATION_GROUPS } from "../../components/database/workbench-database.ts";
import { GATEWAY_PYTHON_FILES } from "../../lib/litellm/gateway.ts";
import { litellmVenvDir } from "../../lib/litellm/venv.ts";
import {
  GATEWAY_SERVER_ARGS,
  type GatewayEndpoints,
  type GatewaySettings,
  PROVIDER_KEY_ENV,
  renderGatewayConfig,
} from "../../components/kubernetes/litellm-config.ts";
import { REPO_ROOT } from "../../lib/paths.ts";

/** Installs (or finds cached) the LiteLLM venv and redis-server; returns the venv. */
export async function installLiteLlm(): Promise<string> {
  const result = await execa("bash", [join(REPO_ROOT, "scripts/install-litellm"), "--quiet"], {
    reject: false,
    all: true,
  });
  if (result.exitCode !== 0)
    throw new Error(`scripts/install-litellm failed (exit ${result.exitCode}):\n${result.all}`);
  return litellmVenvDir(REPO_ROOT);
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

function tail(file: string, lines = 60): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Signals the child's process group (it was spawned detached); gone already is fine. */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

async function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  const pid = child.pid;
  if (child.exitCode !== null || child.signalCode !== null || pid === undefined) return;
  const exited = once(child, "exit");
  // Own process group: the proxy's workers go with it.
  signalGroup(pid, "SIGTERM");
  const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  child: ChildProcess,
  log: string,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with ${child.exitCode} before it was ready; log:\n${tail(log)}`);
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} was not ready after ${timeoutMs / 1000}s; log:\n${tail(log)}`);
}

export interface RedisServer {
  port: number;
  password: string;
  /** Runs one redis-cli command, returns its output. */
  cli(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/** A throwaway redis-server: loopback, a password, no persistence, data in `dir`. */
export async function startRedis(dir: string): Promise<RedisServer> {
  const port = await freePort();
  const password = `redis-${Math.random().toString(36).slice(2)}`;
  const log = join(dir, "redis.log");
  const child = spawn(
    "redis-server",
    [
      "--bind",
      "127.0.0.1",
      "--port",
      String(port),
      "--requirepass",
      password,
      "--save",
      "",
      "--appendonly",
      "no",
      "--dir",
      dir,
      "--logfile",
      log,
    ],
    {
      detached: true,
      stdio: "ignore",
      env: { ...process.env, PATH: `/usr/bin:/usr/local/bin:${process.env["PATH"] ?? ""}` },
    },
  );
  const cli = async (...args: string[]) =>
    (
      await execa("redis-cli", [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "--no-auth-warning",
        "-a",
        password,
        ...args,
      ])
    ).stdout;
  await waitFor("redis-server", async () => (await cli("ping")) === "PONG", child, log, 15_000);
  return { port, password, cli, stop: () => stopProcess(child) };
}

export interface Gateway {
  url: string;
  masterKey: string;
  /** config.yaml as the proxy read it. */
  configYaml: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  venv: string;
  /** Work dir for config.yaml, the Python modules beside it and the log. */
  dir: string;
  /** The gateway settings (for the cluster's: stack config `workbench:llm`). */
  settings: GatewaySettings;
  /** Redis and the providers' stubs. */
  endpoints: GatewayEndpoints;
  redisPassword: string;
  /** Extra environment (e.g. WORKBENCH_USAGE_DATABASE_URL). */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

/**
 * The LiteLLM proxy from the venv on a free loopback port, run as the cluster runs it:
 * config.yaml rendered by the same function, the workbench's Python modules beside it, the
 * same number of workers sharing one /metrics through PROMETHEUS_MULTIPROC_DIR, the local cost
 * map. Dummy provider keys, telemetry off and any non-loopback HTTP sent to a closed port (so
 * an outbound call fails instead of leaving the machine).
 */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const port = await freePort();
  const masterKey = `sk-test-${Math.random().toString(36).slice(2)}`;
  const configYaml = renderGatewayConfig(options.settings, options.endpoints);
  const multiproc = join(options.dir, "prometheus-multiproc");
  mkdirSync(multiproc, { recursive: true });
  const configPath = join(options.dir, "config.yaml");
  writeFileSync(configPath, configYaml);
  for (const file of GATEWAY_PYTHON_FILES) copyFileSync(file, join(options.dir, basename(file)));
  const logFile = join(options.dir, "litellm.log");
  const logStream = createWriteStream(logFile);
  await once(logStream, "open");

  const dead = `http://127.0.0.1:${await freePort()}`;
  const env: Record<string, string> = {
    PATH: `${options.venv}/bin:/usr/bin:/bin`,
    HOME: options.dir,
    LANG: "C.UTF-8",
    LITELLM_LOCAL_MODEL_COST_MAP: "True",
    LITELLM_TELEMETRY: "False",
    LITELLM_MODE: "PRODUCTION", // no .env loading
    DISABLE_ADMIN_UI: "True",
    LITELLM_MASTER_KEY: masterKey,
    PROMETHEUS_MULTIPROC_DIR: multiproc,
    // As the Deployment sets them when Langfuse is on; the host is a closed loopback port.
    LANGFUSE_PUBLIC_KEY: "pk-lf-test",
    LANGFUSE_SECRET_KEY: "sk-lf-test",
    LANGFUSE_HOST: dead,
    REDIS_PASSWORD: options.redisPassword,
    HTTP_PROXY: dead,
    HTTPS_PROXY: dead,
    http_proxy: dead,
    https_proxy: dead,
    NO_PROXY: "127.0.0.1,localhost",
    no_proxy: "127.0.0.1,localhost",
    PYTHONUNBUFFERED: "1",
    ...Object.fromEntries(
      Object.values(PROVIDER_KEY_ENV).map((name) => [name, `test-${name.toLowerCase()}`]),
    ),
    ...options.env,
  };
  const child = spawn(
    join(options.venv, "bin/litellm"),
    [
      "--config",
      configPath,
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      ...GATEWAY_SERVER_ARGS,
      "--telemetry",
      "False",
    ],
    { cwd: options.dir, env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.pipe(logStream);
  child.stderr?.pipe(logStream);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      "the LiteLLM proxy",
      async () => (await fetch(`${url}/health/liveliness`)).ok,
      child,
      logFile,
      options.startTimeoutMs ?? 120_000,
    );
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return {
    url,
    masterKey,
    configYaml,
    logFile,
    stop: async () => {
      await stopProcess(child);
      logStream.end();
    },
  };
}

/** A temp work dir, and its removal (kept, with the proxy's log, when AIWB_KEEP_WORK=1). */
export function makeWorkDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `aiwb-${prefix}-`));
  const keep = process.env["AIWB_KEEP_WORK"] === "1";
  return { dir, remove: () => (keep ? undefined : rmSync(dir, { recursive: true, force: true })) };
}

/** True when something listens on the loopback port. */
export async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

/**
 * config.yaml as an object with its endpoints blanked (Redis's host and port, each provider's
 * api_base): what must be the same wherever the gateway runs.
 */
export function withoutEndpoints(configYaml: string): unknown {
  const config = YAML.parse(configYaml) as {
    model_list?: { litellm_params?: Record<string, unknown> }[];
    router_settings?: Record<string, unknown>;
    litellm_settings?: { cache_params?: Record<string, unknown> };
  };
  for (const entry of config.model_list ?? []) delete entry.litellm_params?.["api_base"];
  for (const key of ["redis_host", "redis_port"])
    if (config.router_settings) config.router_settings[key] = "<endpoint>";
  const cache = config.litellm_settings?.cache_params;
  if (cache) {
    cache["host"] = "<endpoint>";
    cache["port"] = "<endpoint>";
  }
  return config;
}

/** The gateway's database login: what the database layer creates for WORKBENCH_USAGE_DATABASE_URL. */
export interface UsageLogin {
  name: string;
  /** libpq URL of `database` as this login (the gateway's WORKBENCH_USAGE_DATABASE_URL). */
  url: string;
  drop(): Promise<void>;
}

/**
 * The usage login, as WorkbenchDatabase creates it in every profile: the LoginRole provider
 * (generated password), a member of workbench_usage_recorder only. Roles are cluster-wide: a
 * name of its own per run.
 */
export async function createUsageLogin(connection: PgConnection): Promise<UsageLogin> {
  const inputs: LoginRoleInputs = {
    connection,
    name: `wb_t${randomBytes(3).toString("hex")}_usage`,
    connectionLimit: 10,
    memberOf: [AUTOMATION_GROUPS.usage],
  };
  const login = (await loginRoleProvider.create!(inputs)).outs as LoginRoleOutputs;
  return {
    name: login.name,
    url: connectionUrl({ ...connection, user: login.name, password: login.password }, true),
    drop: async () => {
      await loginRoleProvider.delete!(login.name, login);
    },
  };
}
