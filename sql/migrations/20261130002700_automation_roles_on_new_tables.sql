-- The automation group roles (20261130000300) on the catalog tables added after them.
--
-- 20261130000710 (lineage_coverage) and 20261130000720 (catalog_projects) came after the
-- automation roles: the catalog writer could not record coverage or the catalogued
-- manifest (the data-quality re-scoring failed with "permission denied for table
-- catalog_projects"), and the backup login's row-security policies were created only for
-- the tables that existed then, so `pg_dump --enable-row-security` would have dumped these
-- tables empty without a word. Idempotent: re-running changes nothing.

grant select, insert, update, delete on
  ip_workbench.lineage_coverage,
  ip_workbench.catalog_projects
to workbench_catalog_writer;

drop policy if exists "workbench_catalog_writer: all" on ip_workbench.lineage_coverage;
create policy "workbench_catalog_writer: all" on ip_workbench.lineage_coverage
  for all to workbench_catalog_writer using (true) with check (true);

drop policy if exists "workbench_catalog_writer: all" on ip_workbench.catalog_projects;
create policy "workbench_catalog_writer: all" on ip_workbench.catalog_projects
  for all to workbench_catalog_writer using (true) with check (true);

-- The backup reads every row of every ip_workbench table with row level security, including
-- tables created after 20261130000300 (the grant itself comes from its default privileges).
do $$
declare
  p record;
begin
  for p in
    select c.relname::text as tbl from pg_catalog.pg_class as c
    where c.relnamespace = 'ip_workbench'::regnamespace and c.relkind in ('r', 'p') and c.relrowsecurity
  loop
    execute pg_catalog.format('grant select on ip_workbench.%I to workbench_backup', p.tbl);
    execute pg_catalog.format('drop policy if exists %I on ip_workbench.%I', 'workbench_backup: select', p.tbl);
    execute pg_catalog.format(
      'create policy %I on ip_workbench.%I for select to workbench_backup using (true)',
      'workbench_backup: select', p.tbl
    );
  end loop;
end
$$;
