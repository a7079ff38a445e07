/** Throwaway databases on the local server, one per test file. */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { PgConnection } from "./connection.ts";
import { localServer, type LocalServer } from "../../stacks/local-server.ts";

export interface ScratchDatabase {
  name: string;
  server: LocalServer;
  /** Admin connection to the scratch database. */
  connection: PgConnection;
  query<T extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** Runs one statement on `database` of the local server as its admin, on a connection of its own; its rows. */
export async function adminQuery<T extends pg.QueryResultRow>(
  server: LocalServer,
  database: string,
  text: string,
  values: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.url(database) });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function createScratchDatabase(prefix: string): Promise<ScratchDatabase> {
  const server = await localServer();
  const name = `aiwb_${prefix}_${randomBytes(3).toString("hex")}`;
  await adminQuery(server, "postgres", `create database ${name}`);
  const connection: PgConnection = {
    host: server.host,
    port: server.port,
    database: name,
    user: server.user,
    password: server.password,
    sslMode: "disable",
  };
  return {
    name,
    server,
    connection,
    query: <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
      adminQuery<T>(server, name, text, values),
    drop: async () => {
      await adminQuery(server, "postgres", `drop database if exists ${name} with (force)`);
    },
  };
}
