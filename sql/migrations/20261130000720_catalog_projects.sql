-- the dbt projects the catalog holds, and which of their manifests it was seeded from.
--
-- the catalog seeder compares a manifest's own clock (metadata.generated_at, then
-- invocation_id) with the one stored here: artifacts older than the catalogued ones add
-- only their run history (job runs, test runs) and never set the tables, lineage, tests,
-- scores or alerts back to an older state.
--
-- rls enabled and forced like every ip_workbench table; readable by everyone who may view
-- the catalog (sql/MATRIX.md "View Catalog"); no write policies: only the seeder writes it,
-- as the migration owner or service_role (bypassrls).

create table if not exists ip_workbench.catalog_projects (
  project text primary key,
  manifest_generated_at timestamptz,
  manifest_invocation_id text,
  dbt_version text,
  seeded_at timestamptz not null default now()
);
comment on table ip_workbench.catalog_projects is 'dbt projects in the catalog and the manifest each was last seeded from (the catalog never goes back to an older one)';

alter table ip_workbench.catalog_projects enable row level security;
alter table ip_workbench.catalog_projects force row level security;

drop policy if exists "app users can read catalog projects" on ip_workbench.catalog_projects;
create policy "app users can read catalog projects" on ip_workbench.catalog_projects
  for select to authenticated
  using ((select private.is_viewer_or_above()));

revoke all on ip_workbench.catalog_projects from public, anon, authenticated;
grant select on ip_workbench.catalog_projects to authenticated;
grant all on ip_workbench.catalog_projects to service_role;
