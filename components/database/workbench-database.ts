import * as pulumi from "@pulumi/pulumi";
import { LoginRole } from "./login-role.ts";
import { MigrationSet } from "./migration-set.ts";
import type { PgConnection } from "../../lib/postgres/connection.ts";
import { SqlStatements } from "./sql-statements.ts";

/** Schemas the migrations create in every deployment. */
export const MIGRATED_SCHEMAS = [
  "ip_workbench",
  "private",
  "bronze",
  "silver",
  "gold",
  "platinum",
  "n8n",
  // the llm gateway's security definer calls (20261130002900).
  "llm_gateway",
] as const;
/** Layers dbt writes (and API users read). */
export const DBT_TARGET_SCHEMAS = ["silver", "gold", "platinum"] as const;

/**
 * The automation group roles of sql/migrations/20261130000300_automation_roles.sql: each
 * login below is a member of one and gets exactly its privileges (tested in
 * sql/tests/07_automation_roles.sql).
 */
export const AUTOMATION_GROUPS = {
  n8n: "workbench_n8n",
  backup: "workbench_backup",
  catalog: "workbench_catalog_writer",
  usage: "workbench_usage_recorder",
  // sql/migrations/20261130003000_delivery_role.sql
  delivery: "workbench_delivery",
} as const;

/**
 * Supabase's API roles: the services' login is a NOINHERIT member of them, like Supabase's
 * `authenticator`, and acts only after `set role` (per request, with the caller's claims).
 */
export const API_ROLES = ["anon", "authenticated", "service_role"] as const;

/**
 * The dbt runner's group role (sql/migrations/20261130002100_dbt_reads_expense_approvals.sql):
 * read the expense-approval decisions, which gold.finance_expenses carries.
 */
export const DBT_GROUP = "workbench_dbt";

export interface WorkbenchDatabaseArgs {
  /** Admin connection to the workbench database (the password stays secret). */
  connection: pulumi.Input<PgConnection>;
  /** Project root; migrations are read from `<projectRoot>/sql/migrations`. */
  projectRoot: string;
  /** Short environment name; login roles are named `wb_<environment>_<purpose>` (cluster-wide). */
  environment: string;
  /**
   * Whether the server is plain PostgreSQL with the Supabase shim (local stack, tests):
   * then the `auth` schema the shim creates belongs to the stack and is dropped with it.
   * On Supabase it is Supabase's and is never touched. Default false.
   */
  ownsAuthSchema?: boolean;
  /**
   * Keep everything on delete or replace: no schema is dropped, no role or grant removed,
   * and a changed host migrates the new target in place (the cloud profile, where the
   * database holds prod data). Default false: `destroy` leaves an empty database.
   */
  retainOnDelete?: boolean;
  /**
   * Create the upstream-delivery login (`wb_<environment>_delivery`, a member of
   * `workbench_delivery`: COPY and `bronze.deliver*` into the landing tables, nothing else),
   * for a loader that stands in for an upstream system: the local stack's sample data.
   * Default false: in the cloud profile deliveries arrive through n8n, so no login that
   * nothing uses is created.
   */
  deliveryLogin?: boolean;
}

/**
 * Grants for a dbt runner: read the landing tables, create its typed views in bronze,
 * build silver/gold/platinum, whose tables API roles may read (and the backup login, which
 * also reads the bronze views); read the expense-approval
 * decisions as a member of {@link DBT_GROUP} (its own row-level-security policy).
 */
export function dbtRunnerGrants(role: string): { apply: string[]; undo: string[] } {
  const targets = DBT_TARGET_SCHEMAS.join(", ");
  return {
    apply: [
      `grant ${DBT_GROUP} to ${role}`,
      `grant usage, create on schema bronze to ${role}`,
      `grant select on all tables in schema bronze to ${role}`,
      `grant usage, create on schema ${targets} to ${role}`,
      `alter default privileges for role ${role} in schema ${targets} grant select on tables to authenticated, service_role, ${AUTOMATION_GROUPS.backup}`,
      // its typed views in bronze: the read-only login sees every relation of the backed-up
      // schemas (npm run local's summary counts them through it).
      `alter default privileges for role ${role} in schema bronze grant select on tables to ${AUTOMATION_GROUPS.backup}`,
      // the expense-approval workflow reads silver.expenses.
      `alter default privileges for role ${role} in schema silver grant select on tables to ${AUTOMATION_GROUPS.n8n}`,
    ],
    undo: [
      `alter default privileges for role ${role} in schema silver revoke select on tables from ${AUTOMATION_GROUPS.n8n}`,
      `alter default privileges for role ${role} in schema bronze revoke select on tables from ${AUTOMATION_GROUPS.backup}`,
      `alter default privileges for role ${role} in schema ${targets} revoke select on tables from authenticated, service_role, ${AUTOMATION_GROUPS.backup}`,
      `revoke usage, create on schema ${targets} from ${role}`,
      `revoke select on all tables in schema bronze from ${role}`,
      `revoke usage, create on schema bronze from ${role}`,
      `revoke ${DBT_GROUP} from ${role}`,
    ],
  };
}

/**
 * Grants to the n8n login itself: none. Everything it may do comes from its group role,
 * workbench_n8n (sql/migrations/20261130001900_n8n_least_privilege.sql): exactly what the
 * five workflows run. `undo` still takes back what earlier versions granted the login
 * directly (every bronze table), so an update narrows an existing login.
 */
export function n8nGrants(role: string): { apply: string[]; undo: string[] } {
  return {
    apply: [],
    undo: [
      `revoke select, insert on all tables in schema bronze from ${role}`,
      `revoke usage on schema bronze from ${role}`,
    ],
  };
}

/**
 * The user name a login connects with where the admin connects: Supabase's pooler
 * (`*.pooler.supabase.com`, Supavisor) routes by `<role>.<project ref>`, so a login
 * `wb_prod_n8n` connects there as `wb_prod_n8n.<ref>`, taking the admin user's suffix.
 * Anywhere else it is the role name.
 */
export function loginUser(admin: Pick<PgConnection, "host" | "user">, role: string): string {
  const dot = admin.user.indexOf(".");
  return admin.host.endsWith(".pooler.supabase.com") && dot > 0 ? `${role}${admin.user.slice(dot)}` : role;
}

function roleName(environment: string, purpose: string): string {
  return `wb_${environment.replaceAll("-", "_")}_${purpose}`;
}

/**
 * The logins of the database, each created after the migrations (which create their group
 * roles): the dbt runner and n8n with their grants, one login per automation (a member of
 * its group role only), the optional delivery login and the services' NOINHERIT login.
 */
function createLogins(
  name: string,
  args: WorkbenchDatabaseArgs,
  child: pulumi.CustomResourceOptions,
  migrations: MigrationSet,
) {
  const dbt = new LoginRole(
    `${name}-dbt-runner`,
    { connection: args.connection, name: roleName(args.environment, "dbt"), connectionLimit: 20 },
    // Deleted before the schemas: its `reassign owned` must not race the migrations'
    // `drop schema ... cascade` (its silver view reads ip_workbench.expense_approvals).
    { ...child, dependsOn: [migrations] },
  );
  const dbtGrants = dbtRunnerGrants(roleName(args.environment, "dbt"));
  new SqlStatements(
    `${name}-dbt-runner-grants`,
    { connection: args.connection, ...dbtGrants },
    { ...child, dependsOn: [migrations, dbt] },
  );

  const n8n = new LoginRole(
    `${name}-n8n`,
    {
      connection: args.connection,
      name: roleName(args.environment, "n8n"),
      connectionLimit: 10,
      memberOf: [AUTOMATION_GROUPS.n8n],
    },
    { ...child, dependsOn: [migrations] },
  );
  new SqlStatements(
    `${name}-n8n-grants`,
    { connection: args.connection, ...n8nGrants(roleName(args.environment, "n8n")) },
    { ...child, dependsOn: [migrations, n8n] },
  );

  // One login per automation, each a member of its group role only.
  const automation = (purpose: string, group: string, connectionLimit: number) =>
    new LoginRole(
      `${name}-${purpose}`,
      {
        connection: args.connection,
        name: roleName(args.environment, purpose),
        connectionLimit,
        memberOf: [group],
      },
      { ...child, dependsOn: [migrations] },
    );
  const backup = automation("backup", AUTOMATION_GROUPS.backup, 2);
  const catalog = automation("catalog", AUTOMATION_GROUPS.catalog, 5);
  const usage = automation("usage", AUTOMATION_GROUPS.usage, 10);
  const delivery = args.deliveryLogin ? automation("delivery", AUTOMATION_GROUPS.delivery, 5) : undefined;
  const api = new LoginRole(
    `${name}-api`,
    {
      connection: args.connection,
      name: roleName(args.environment, "api"),
      connectionLimit: 30,
      memberOf: [...API_ROLES],
      inherit: false,
    },
    { ...child, dependsOn: [migrations] },
  );
  return { dbt, n8n, backup, catalog, usage, delivery, api };
}

/** `connection` with `login`'s user ({@link loginUser}) and password in place of the admin's. Secret. */
function loginConnection(
  connection: pulumi.Input<PgConnection>,
  login: LoginRole,
): pulumi.Output<PgConnection> {
  return pulumi.secret(
    pulumi.all([connection, login.name, login.password]).apply(([admin, role, password]) => ({
      ...admin,
      user: loginUser(admin, role),
      password,
    })),
  );
}

/**
 * The workbench database: migrations (catalog, medallion schemas, roles and RLS,
 * execute_sql) and least-privilege login roles: the dbt runner, n8n, backups, the catalog
 * seeder and LiteLLM's usage recorder.
 * Token `workbench:database:WorkbenchDatabase`.
 */
export class WorkbenchDatabase extends pulumi.ComponentResource {
  public readonly appliedVersions: pulumi.Output<string[]>;
  public readonly dbtRole: pulumi.Output<string>;
  /** Secret. */
  public readonly dbtPassword: pulumi.Output<string>;
  /** The admin connection with the dbt runner's login in place of the admin's ({@link loginUser}). Secret. */
  public readonly dbtConnection: pulumi.Output<PgConnection>;
  public readonly n8nRole: pulumi.Output<string>;
  /** Secret. */
  public readonly n8nPassword: pulumi.Output<string>;
  /** Read-only login for pg_dump (`--enable-row-security`; schemas ip_workbench, bronze, silver, gold, platinum, workbench_migrations). */
  public readonly backupRole: pulumi.Output<string>;
  /** Secret. */
  public readonly backupPassword: pulumi.Output<string>;
  /** Login for the catalog seeding step. */
  public readonly catalogRole: pulumi.Output<string>;
  /** Secret. */
  public readonly catalogPassword: pulumi.Output<string>;
  /**
   * Login of the LiteLLM gateway (WORKBENCH_USAGE_DATABASE_URL): caller keys, budgets and usage
   * rows through the llm_gateway functions, its cost_tracker rows. LiteLLM itself keeps no
   * database (no DATABASE_URL, no Prisma), so it has no login of its own.
   */
  public readonly usageRole: pulumi.Output<string>;
  /** Secret. */
  public readonly usagePassword: pulumi.Output<string>;
  /**
   * Login for the services' DATABASE_URL (api, guardian, expense API): a NOINHERIT member of
   * anon, authenticated and service_role that can do nothing until it `set role`s.
   */
  public readonly apiRole: pulumi.Output<string>;
  /** Secret. */
  public readonly apiPassword: pulumi.Output<string>;
  /** The upstream-delivery login, when {@link WorkbenchDatabaseArgs.deliveryLogin} is set. */
  public readonly deliveryRole?: pulumi.Output<string>;
  /** Secret. */
  public readonly deliveryPassword?: pulumi.Output<string>;
  /**
   * The admin connection with each automation's login in place of the admin's (user name
   * per {@link loginUser}, so it works through Supabase's pooler). Secret.
   */
  public readonly connections: Record<
    "n8n" | "backup" | "catalog" | "usage" | "api",
    pulumi.Output<PgConnection>
  > & { delivery?: pulumi.Output<PgConnection> };

  constructor(name: string, args: WorkbenchDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:database:WorkbenchDatabase", name, {}, opts);

    const ownedSchemas: string[] = [...MIGRATED_SCHEMAS, ...(args.ownsAuthSchema ? ["auth"] : [])];
    const retainOnDelete = args.retainOnDelete ?? false;
    const child = { parent: this, retainOnDelete };
    const migrations = new MigrationSet(
      `${name}-migrations`,
      {
        connection: args.connection,
        projectRoot: args.projectRoot,
        ownedSchemas,
        dropOnDelete: !retainOnDelete,
      },
      child,
    );

    const { dbt, n8n, backup, catalog, usage, delivery, api } = createLogins(name, args, child, migrations);

    this.appliedVersions = migrations.appliedVersions;
    this.dbtRole = dbt.name;
    this.dbtPassword = dbt.password;
    this.dbtConnection = loginConnection(args.connection, dbt);
    this.n8nRole = n8n.name;
    this.n8nPassword = n8n.password;
    this.backupRole = backup.name;
    this.backupPassword = backup.password;
    this.catalogRole = catalog.name;
    this.catalogPassword = catalog.password;
    this.usageRole = usage.name;
    this.usagePassword = usage.password;
    this.apiRole = api.name;
    this.apiPassword = api.password;
    const as = (login: LoginRole) => loginConnection(args.connection, login);
    this.connections = {
      n8n: as(n8n),
      backup: as(backup),
      catalog: as(catalog),
      usage: as(usage),
      api: as(api),
      ...(delivery ? { delivery: as(delivery) } : {}),
    };
    if (delivery) {
      this.deliveryRole = delivery.name;
      this.deliveryPassword = delivery.password;
    }
    this.registerOutputs({
      appliedVersions: this.appliedVersions,
      dbtRole: this.dbtRole,
      dbtPassword: this.dbtPassword,
      n8nRole: this.n8nRole,
      n8nPassword: this.n8nPassword,
      backupRole: this.backupRole,
      backupPassword: this.backupPassword,
      catalogRole: this.catalogRole,
      catalogPassword: this.catalogPassword,
      usageRole: this.usageRole,
      usagePassword: this.usagePassword,
      apiRole: this.apiRole,
      apiPassword: this.apiPassword,
      ...(delivery ? { deliveryRole: this.deliveryRole, deliveryPassword: this.deliveryPassword } : {}),
    });
  }
}
