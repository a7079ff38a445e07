/**
 * A real Traefik for the edge tests: the binary scripts/install-traefik builds from the Go
 * module proxy, one plain-HTTP entry point on a free loopback port, the file provider
 * reading a dynamic configuration the caller renders (n8n-edge.ts's traefikFileConfig),
 * version checks and usage statistics off. `stop()` ends the process.
 */
import { execa } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { REPO_ROOT } from "../../lib/paths.ts";
import { freePort } from "./n8n-harness.ts";

export interface TraefikInstance {
  /** `http://127.0.0.1:<port>`: the entry point. */
  url: string;
  version: string;
  /** The last lines Traefik printed (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

export interface TraefikOptions {
  /** Name of the entry point the routers name (`entryPoints`). */
  entryPoint: string;
  /** A path that answers 200 through the entry point once the routers are loaded. */
  readyPath: string;
  /** Startup budget; default 30 s. */
  startTimeoutMs?: number;
}

/** Builds Traefik into the cache when missing; returns the executable. */
export async function traefikExecutable(): Promise<string> {
  const result = await execa("bash", [join(REPO_ROOT, "scripts/install-traefik"), "--print-bin"], {
    reject: false,
  });
  if (result.exitCode !== 0)
    throw new Error(`scripts/install-traefik failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout.trim().split("\n").pop() as string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startTraefik(
  dynamicConfig: Record<string, unknown>,
  options: TraefikOptions,
): Promise<TraefikInstance> {
  const bin = await traefikExecutable();
  const versionOutput = (await execa(bin, ["version"])).stdout;
  const version = /Version:\s*(\S+)/.exec(versionOutput)?.[1] ?? "?";
  const port = await freePort();
  const home = mkdtempSync(join(tmpdir(), "aiwb-traefik-"));
  const file = join(home, "dynamic.yaml");
  writeFileSync(file, YAML.stringify(dynamicConfig));
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    bin,
    [
      `--entryPoints.${options.entryPoint}.address=127.0.0.1:${port}`,
      `--providers.file.filename=${file}`,
      "--providers.file.watch=false",
      "--global.checkNewVersion=false",
      "--global.sendAnonymousUsage=false",
      "--log.level=INFO",
      "--accessLog=true",
    ],
    { cwd: home, stdio: ["ignore", "pipe", "pipe"] },
  );
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
  const onExit = () => child.kill("SIGKILL");
  process.once("exit", onExit);
  const log = () => lines.slice(-60).join("\n");
  const stop = async () => {
    process.removeListener("exit", onExit);
    if (exited === null) {
      child.kill("SIGTERM");
      const deadline = Date.now() + 10_000;
      while (exited === null && Date.now() < deadline) await sleep(100);
      if (exited === null) child.kill("SIGKILL");
      while (exited === null) await sleep(50);
    }
    rmSync(home, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    for (;;) {
      if (exited !== null) throw new Error(`traefik exited with ${exited} while starting:\n${log()}`);
      if (Date.now() > deadline)
        throw new Error(`traefik did not route ${options.readyPath} in time:\n${log()}`);
      try {
        const ready = await fetch(`${url}${options.readyPath}`, { signal: AbortSignal.timeout(2000) });
        if (ready.ok) break;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    return { url, version, log, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
