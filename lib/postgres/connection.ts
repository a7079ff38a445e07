/** How the program reaches a PostgreSQL server, and small helpers around `pg`. */
import pg from "pg";

export type SslMode = "disable" | "require" | "verify-full";

/** A PostgreSQL connection; `password` is secret wherever it travels in Pulumi. */
export interface PgConnection {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  sslMode: SslMode;
}

type ServerAddress = Pick<PgConnection, "host" | "port">;

/**
 * The one rule for "the same server" in diffs: the same host and port. Roles belong to a
 * server; a different host or port is a different server, whatever it holds.
 */
export function sameServer(a: ServerAddress, b: ServerAddress): boolean {
  return a.host === b.host && a.port === b.port;
}

/** The same database on the same server ({@link sameServer}): where schemas, tables and grants live. */
export function sameDatabase(
  a: Pick<PgConnection, "host" | "port" | "database">,
  b: Pick<PgConnection, "host" | "port" | "database">,
): boolean {
  return sameServer(a, b) && a.database === b.database;
}

export function clientConfig(connection: PgConnection): pg.ClientConfig {
  return {
    host: connection.host,
    port: connection.port,
    database: connection.database,
    user: connection.user,
    password: connection.password,
    ssl:
      connection.sslMode === "disable" ? false : { rejectUnauthorized: connection.sslMode === "verify-full" },
    connectionTimeoutMillis: 10_000,
    application_name: "ai-workbench",
  };
}

/** Opens a client, runs `work`, always closes. Connection errors name the server. */
export async function withClient<T>(
  connection: PgConnection,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client(clientConfig(connection));
  try {
    await client.connect();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `cannot connect to PostgreSQL at ${connection.host}:${connection.port}/${connection.database} as ${connection.user}: ${reason}` +
        (connection.host === "127.0.0.1" || connection.host === "localhost"
          ? " (is the local server running? scripts/local-postgres start)"
          : ""),
      { cause: error },
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A libpq URL; the password is replaced by `***` unless `revealPassword` is set. */
export function connectionUrl(connection: PgConnection, revealPassword = false): string {
  const password = revealPassword ? encodeURIComponent(connection.password) : "***";
  const ssl = connection.sslMode === "disable" ? "" : `?sslmode=${connection.sslMode}`;
  return `postgresql://${encodeURIComponent(connection.user)}:${password}@${connection.host}:${connection.port}/${connection.database}${ssl}`;
}

/** Parses a libpq URL into a connection. */
export function connectionFromUrl(url: string): PgConnection {
  const parsed = new URL(url);
  if (!/^postgres(ql)?:$/.test(parsed.protocol))
    throw new Error(`not a PostgreSQL URL: ${parsed.protocol}//…`);
  const sslMode = parsed.searchParams.get("sslmode") ?? "disable";
  if (!["disable", "require", "verify-full"].includes(sslMode)) {
    throw new Error(`sslmode=${sslMode} is not supported (use disable, require or verify-full)`);
  }
  return {
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    database: decodeURIComponent(parsed.pathname.slice(1)) || "postgres",
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    sslMode: sslMode as PgConnection["sslMode"],
  };
}

export const quoteIdent = pg.escapeIdentifier;
export const quoteLiteral = pg.escapeLiteral;
