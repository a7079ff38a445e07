/**
 * The `LoginRole` dynamic resource: its args, its class and its provider, which the
 * provider process loads through components/shared/provider-registry.ts (tests import the
 * provider directly). Every statement is idempotent, so a retried create or delete
 * converges instead of failing. No side effects on import.
 */
import { randomBytes } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import {
  quoteIdent,
  quoteLiteral,
  sameServer,
  withClient,
  type PgConnection,
} from "../../lib/postgres/connection.ts";
import { projectProvider } from "../shared/project-provider.ts";

export interface LoginRoleArgs {
  /** Server to create the role on (roles are cluster-wide; the database is where owned objects are reassigned on delete). */
  connection: pulumi.Input<PgConnection>;
  /** Role name: a lowercase identifier. */
  name: pulumi.Input<string>;
  /** Maximum concurrent connections. Default 10; -1 for no limit. */
  connectionLimit?: pulumi.Input<number>;
  /** Group roles to grant this role membership in. Default none. */
  memberOf?: pulumi.Input<pulumi.Input<string>[]>;
  /** Use the groups' privileges without `set role`. Default true. */
  inherit?: pulumi.Input<boolean>;
}

/**
 * A least-privilege PostgreSQL login role with a generated password (192 bits, kept
 * only as a secret output). Managed with plain SQL, so it needs no provider plugin.
 * Token `workbench:database:LoginRole`.
 */
export class LoginRole extends pulumi.dynamic.Resource {
  declare public readonly name: pulumi.Output<string>;
  /** The generated password: always a secret. */
  declare public readonly password: pulumi.Output<string>;

  constructor(name: string, args: LoginRoleArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      projectProvider("workbench:database:LoginRole"),
      name,
      {
        connection: args.connection,
        name: args.name,
        connectionLimit: args.connectionLimit ?? 10,
        memberOf: args.memberOf ?? [],
        inherit: args.inherit ?? true,
        password: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["password"] }),
      "workbench:database",
      "LoginRole",
    );
  }
}

// ---- provider: runs in the dynamic-provider process (registered in components/shared/provider-registry.ts) ----

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Rejects names that would need quoting: they are a typo far more often than a wish. */
export function checkIdentifier(kind: string, name: unknown): string[] {
  if (typeof name !== "string" || !IDENTIFIER.test(name)) {
    return [
      `${kind} name ${JSON.stringify(name)} must be a lowercase identifier (a-z, 0-9, _; at most 63 characters)`,
    ];
  }
  return [];
}

function failures(messages: string[]): pulumi.dynamic.CheckFailure[] {
  return messages.map((reason) => ({ property: "name", reason }));
}

/** A password with 192 bits of entropy using only URL- and shell-safe characters. */
export function generatePassword(): string {
  return randomBytes(24).toString("base64url");
}

export interface LoginRoleInputs {
  connection: PgConnection;
  name: string;
  /** Maximum concurrent connections; -1 for no limit. */
  connectionLimit: number;
  /** Roles this role is granted membership in. */
  memberOf: string[];
  /**
   * Whether it uses its groups' privileges directly. False: only after `set role` (the shape
   * of Supabase's `authenticator`, which switches to anon/authenticated/service_role per
   * request). Absent = true (states written before this input).
   */
  inherit?: boolean;
}

export interface LoginRoleOutputs extends LoginRoleInputs {
  password: string;
}

async function applyRole(inputs: LoginRoleInputs, password: string, create: boolean): Promise<void> {
  await withClient(inputs.connection, async (client) => {
    const role = quoteIdent(inputs.name);
    const inherit = inputs.inherit === false ? "noinherit" : "inherit";
    const options = `login ${inherit} password ${quoteLiteral(password)} connection limit ${inputs.connectionLimit}`;
    await client.query("begin");
    try {
      if (create) {
        // Roles are cluster-wide: an existing one belongs to someone else (another stack
        // with the same environment name, or a person). Taking it over would change its
        // password under them, so refuse.
        const exists = await client.query("select 1 from pg_roles where rolname = $1", [inputs.name]);
        if (exists.rowCount) {
          throw new Error(
            `role ${inputs.name} already exists on ${inputs.connection.host}:${inputs.connection.port}: ` +
              `another stack may use the same workbench:environment. Choose another environment name, ` +
              `or drop the role if it is left over (drop owned by ${inputs.name}; drop role ${inputs.name};)`,
          );
        }
        await client.query(`create role ${role} with ${options}`);
      } else {
        await client.query(`alter role ${role} with ${options}`);
      }
      const current = await client.query<{ rolname: string }>(
        `select g.rolname from pg_auth_members m join pg_roles g on g.oid = m.roleid
           join pg_roles r on r.oid = m.member where r.rolname = $1`,
        [inputs.name],
      );
      const have = new Set(current.rows.map((row) => row.rolname));
      for (const group of inputs.memberOf) {
        if (!have.has(group)) await client.query(`grant ${quoteIdent(group)} to ${role}`);
      }
      for (const group of have) {
        if (!inputs.memberOf.includes(group)) await client.query(`revoke ${quoteIdent(group)} from ${role}`);
      }
      await client.query("commit");
    } catch (error) {
      await client.query("rollback");
      throw error;
    }
  });
}

export const loginRoleProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news: LoginRoleInputs) {
    const problems = [
      ...checkIdentifier("role", news.name),
      ...(news.memberOf ?? []).flatMap((group) => checkIdentifier("group role", group)),
    ];
    return { inputs: { ...news, memberOf: news.memberOf ?? [] }, failures: failures(problems) };
  },
  async diff(_id, olds: LoginRoleOutputs, news: LoginRoleInputs) {
    const replaces = olds.name !== news.name || !sameServer(olds.connection, news.connection) ? ["name"] : [];
    const changes =
      replaces.length > 0 ||
      olds.connectionLimit !== news.connectionLimit ||
      (olds.inherit ?? true) !== (news.inherit ?? true) ||
      JSON.stringify([...olds.memberOf].sort()) !== JSON.stringify([...news.memberOf].sort());
    return { changes, replaces, deleteBeforeReplace: true };
  },
  async create(inputs: LoginRoleInputs) {
    const password = generatePassword();
    await applyRole(inputs, password, true);
    return { id: inputs.name, outs: { ...inputs, password } };
  },
  async update(_id, olds: LoginRoleOutputs, news: LoginRoleInputs) {
    await applyRole(news, olds.password, false);
    return { outs: { ...news, password: olds.password } };
  },
  async delete(_id, props: LoginRoleOutputs) {
    await withClient(props.connection, async (client) => {
      const exists = await client.query("select 1 from pg_roles where rolname = $1", [props.name]);
      if (!exists.rowCount) return;
      const role = quoteIdent(props.name);
      // A role that owns objects or holds grants cannot be dropped; hand its objects to
      // the connecting (admin) user first, in this database.
      await client.query(`reassign owned by ${role} to current_user`);
      await client.query(`drop owned by ${role}`);
      await client.query(`drop role ${role}`);
    });
  },
};
