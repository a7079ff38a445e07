import * as pulumi from "@pulumi/pulumi";
import { projectProvider } from "../shared/project-provider.ts";
import type { PgConnection } from "../../lib/postgres/connection.ts";

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
