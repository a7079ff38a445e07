/** scripts/local-postgres as a user drives it: status, url, and the port-in-use error. */
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { execa } from "execa";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../stacks/workspace.ts";

const script = join(REPO_ROOT, "scripts/local-postgres");

describe("scripts/local-postgres", () => {
  let blocker: Server;
  let busyPort: number;

  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    busyPort = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  it("reports the running server and a URL that connects", async () => {
    const status = await execa("bash", [script, "status"]);
    const port = process.env["AIWB_PG_PORT"] ?? "54322";
    expect(status.stdout).toContain(`running on 127.0.0.1:${port} `);
    const { stdout: url } = await execa("bash", [script, "url"]);
    expect(url).toMatch(new RegExp(`^postgresql://postgres:[A-Za-z0-9]+@127\\.0\\.0\\.1:${port}/postgres$`));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ version: string; listen: string }>(
      "select current_setting('server_version_num') as version, current_setting('listen_addresses') as listen",
    );
    await client.end();
    expect(rows[0]?.version.startsWith("15")).toBe(true);
    expect(rows[0]?.listen).toBe("127.0.0.1");
  });

  it("refuses a port another process holds, says what to do, and creates nothing", async () => {
    const result = await execa("bash", [script, "start"], {
      env: { AIWB_PG_PORT: String(busyPort), AIWB_PG_HOME: join(REPO_ROOT, "node_modules/.aiwb-test-pg") },
      reject: false,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`port ${busyPort} on 127.0.0.1 is already in use by another process`);
    expect(result.stderr).toContain("fix: stop that process, or choose another port");
    const status = await execa("bash", [script, "status"], {
      env: { AIWB_PG_PORT: String(busyPort), AIWB_PG_HOME: join(REPO_ROOT, "node_modules/.aiwb-test-pg") },
      reject: false,
    });
    expect(status.exitCode).toBe(3);
  });
});
