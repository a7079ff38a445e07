-- column-lineage coverage: one row per catalogued dbt model, written by the catalog seeder.
--
-- says whether the model has column lineage and, when it has none, why (no compiled sql, a
-- python model, the parser failed on its sql, its columns are unknown, ...), where its sql
-- came from (the manifest or a run_results.json), and the checksum of everything its
-- lineage depends on (parser, dialect, compiled sql, its own and its parents' columns): a
-- re-seed parses only the models whose checksum changed.
--
-- rls enabled and forced like every ip_workbench table. readable by everyone who may view
-- lineage (sql/MATRIX.md "View Lineage": viewer, engineer, admin, service); there are no
-- write policies: only the seeder writes it, as the migration owner or service_role
-- (bypassrls), never through the api.

create table if not exists ip_workbench.lineage_coverage (
  table_id uuid primary key references ip_workbench.tables (id) on delete cascade,
  status text not null check (status in ('traced', 'no_edges', 'failed', 'no_sql', 'not_sql')),
  reason text,
  sql_source text,
  column_edges int not null default 0 check (column_edges >= 0),
  checksum text,
  parser text,
  updated_at timestamptz not null default now(),
  check ((status = 'traced') = (reason is null))
);
comment on table ip_workbench.lineage_coverage is 'column-lineage coverage per catalogued dbt model (status, reason, sql source, checksum), written by the catalog seeder';
comment on column ip_workbench.lineage_coverage.status is 'traced: has column edges; no_edges: parsed but no edge kept; failed: the parser failed; no_sql: no compiled sql in the artifacts; not_sql: a python model';
comment on column ip_workbench.lineage_coverage.sql_source is 'where the compiled sql came from: manifest (file) or run_results (file)';
comment on column ip_workbench.lineage_coverage.checksum is 'sha-256 of parser, dialect, compiled sql and the columns of the model and its parents; unchanged = not parsed again';

create or replace trigger set_updated_at before update on ip_workbench.lineage_coverage
  for each row execute function private.set_updated_at();

alter table ip_workbench.lineage_coverage enable row level security;
alter table ip_workbench.lineage_coverage force row level security;

drop policy if exists "app users can read lineage coverage" on ip_workbench.lineage_coverage;
create policy "app users can read lineage coverage" on ip_workbench.lineage_coverage
  for select to authenticated
  using ((select private.is_viewer_or_above()));

revoke all on ip_workbench.lineage_coverage from public, anon, authenticated;
grant select on ip_workbench.lineage_coverage to authenticated;
grant all on ip_workbench.lineage_coverage to service_role;
