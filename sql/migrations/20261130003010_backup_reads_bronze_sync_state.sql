-- the backup login dumps the odoo sync's cursor and quarantine too (issue 19, backups).
--
-- bronze.sync_cursors and bronze.sync_quarantine (20261130000900) force row level security
-- with a policy for workbench_n8n only. workbench_backup has select on them (the default
-- privileges of 20261130000300), but no policy, so it saw no row: the backups' `pg_dump
-- --enable-row-security` wrote both tables empty without a word, and a restore would have
-- restarted the sync from its first page. 20261130000300 and 20261130002700 gave the backup
-- its select-all policy on ip_workbench only. this does the same for every table with row
-- level security in the other backed-up schemas. idempotent: re-running changes nothing.
-- tested by test/integration/automation-logins.test.ts (the backup login's count and dump).

do $$
declare
  p record;
begin
  for p in
    select n.nspname::text as sch, c.relname::text as tbl
      from pg_catalog.pg_class as c
      join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
     where n.nspname in ('bronze', 'silver', 'gold', 'platinum', 'workbench_migrations')
       and c.relkind in ('r', 'p') and c.relrowsecurity
  loop
    execute pg_catalog.format('grant select on %I.%I to workbench_backup', p.sch, p.tbl);
    execute pg_catalog.format('drop policy if exists %I on %I.%I', 'workbench_backup: select', p.sch, p.tbl);
    execute pg_catalog.format(
      'create policy %I on %I.%I for select to workbench_backup using (true)',
      'workbench_backup: select', p.sch, p.tbl
    );
  end loop;
end
$$;
