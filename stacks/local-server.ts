/** The local PostgreSQL server started by scripts/local-postgres, as the stacks see it. */
import { execa } from "execa";
import { join } from "node:path";
import { REPO_ROOT } from "./workspace.ts";

export interface LocalServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Admin URL for a given database on this server. */
  url(database?: string): string;
}

export async function localServer(): Promise<LocalServer> {
  const script = join(REPO_ROOT, "scripts/local-postgres");
  const status = await execa("bash", [script, "status"], { reject: false });
  if (status.exitCode !== 0) {
    throw new Error(
      `the local PostgreSQL server is not running (${status.stdout.trim()}): run scripts/local-postgres start`,
    );
  }
  const { stdout } = await execa("bash", [script, "url"]);
  const parsed = new URL(stdout.trim());
  const server = {
    host: parsed.hostname,
    port: Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
  return {
    ...server,
    url: (database = "postgres") =>
      `postgresql://${encodeURIComponent(server.user)}:${encodeURIComponent(server.password)}@${server.host}:${server.port}/${database}`,
  };
}
