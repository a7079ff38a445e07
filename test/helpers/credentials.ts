/**
 * Finds every database user and password in a resource's inputs or outputs: the walk behind
 * the least-privilege audits of both profiles (test/unit/cloud/prod-connections.test.ts under
 * the mocks, test/integration/local-platform.test.ts on the real exported state).
 */

/** One credential found in a resource. */
export interface Found {
  resource: string;
  path: string;
  kind: "user" | "password";
  value: string;
}

const USER_KEYS = new Set(["user", "PGUSER", "DBT_USER", "DB_POSTGRESDB_USER"]);
const PASSWORD_KEYS = new Set(["password", "PGPASSWORD", "DBT_PASSWORD", "DB_POSTGRESDB_PASSWORD"]);
const URL = /postgres(?:ql)?:\/\/([^:@/\s]+):([^@/\s]*)@/g;

/**
 * Every database user and password in `value`: libpq URLs anywhere in a string, keys named
 * like a user or password, and Kubernetes env entries (`{name, value}`) with such names.
 */
export function credentials(resource: string, value: unknown, path = ""): Found[] {
  if (typeof value === "string") {
    return [...value.matchAll(URL)].flatMap((match) => [
      { resource, path, kind: "user" as const, value: decodeURIComponent(match[1] as string) },
      { resource, path, kind: "password" as const, value: decodeURIComponent(match[2] as string) },
    ]);
  }
  if (Array.isArray(value))
    return value.flatMap((item, index) => credentials(resource, item, `${path}[${index}]`));
  if (value === null || typeof value !== "object") return [];
  const record = value as Record<string, unknown>;
  const found: Found[] = [];
  if (typeof record["name"] === "string" && typeof record["value"] === "string") {
    const name = record["name"];
    if (USER_KEYS.has(name))
      found.push({ resource, path: `${path}.${name}`, kind: "user", value: record["value"] });
    if (PASSWORD_KEYS.has(name))
      found.push({ resource, path: `${path}.${name}`, kind: "password", value: record["value"] });
  }
  for (const [key, inner] of Object.entries(record)) {
    if (typeof inner === "string" && USER_KEYS.has(key))
      found.push({ resource, path: `${path}.${key}`, kind: "user", value: inner });
    if (typeof inner === "string" && PASSWORD_KEYS.has(key))
      found.push({ resource, path: `${path}.${key}`, kind: "password", value: inner });
    found.push(...credentials(resource, inner, `${path}.${key}`));
  }
  return found;
}

/** Pulumi's marker of a secret value in an exported state. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/**
 * A state value with its secrets in the clear: `pulumi stack export --show-secrets` keeps each
 * secret as `{<sig>: <secret marker>, plaintext: <the value as JSON>}`. Throws on a secret
 * still encrypted (`ciphertext`), since a walk over it would find nothing.
 */
export function revealSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revealSecrets);
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (SECRET_SIG in record) {
    if (typeof record["plaintext"] !== "string")
      throw new Error("an encrypted secret in the state: export it with --show-secrets");
    return revealSecrets(JSON.parse(record["plaintext"]));
  }
  return Object.fromEntries(Object.entries(record).map(([key, inner]) => [key, revealSecrets(inner)]));
}
