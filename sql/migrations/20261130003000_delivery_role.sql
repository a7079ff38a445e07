-- an upstream delivery's own group role (issue 19: no admin credential outside the migration
-- runner, in the local profile too).
--
-- the local stack's sample loader (components/data/sample-data-provider.ts) stands in for an
-- upstream system delivering into bronze. it used to load as the admin; its login
-- (wb_<env>_delivery, components/database/workbench-database.ts) is now a member of
-- workbench_delivery, which holds exactly what a delivery does, by either way in:
--
--   COPY (components/data/generator/loader.ts, scripts/gen-data.ts)
--       insert into bronze.deliveries (source, batch_id, entity, record_count) ... on conflict
--       do nothing; copy bronze.<landing> (source, batch_id, record_seq, payload_raw) from
--       stdin; update bronze.deliveries set record_count = ... where source, batch_id, entity
--   functions (what n8n's real-time-transactions workflow calls)
--       bronze.sha256_hex, bronze.batch_sha256, bronze.deliver, bronze.deliver_batch: the same
--       inserts, and deliver_batch reads a re-sent batch's stored records back to compare
--       their content (select of the four delivered columns).
--
-- nothing else: no silver, gold, platinum, ip_workbench, private, auth or n8n; no ddl; no
-- update or delete of delivered records; not the odoo sync's cursor or quarantine (those are
-- n8n's). tested both ways by test/integration/automation-logins.test.ts (as the login) and
-- sql/tests/07_delivery_role.sql (as the group).
--
-- roles are cluster-wide: created only when missing (another database may have created it).

do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = 'workbench_delivery') then
    begin
      create role workbench_delivery nologin noinherit;
    exception when duplicate_object then
      null;
    end;
  end if;
end
$$;

comment on role workbench_delivery is 'upstream deliveries into the bronze landing tables (group role; logins wb_<env>_delivery are members)';

grant usage on schema bronze to workbench_delivery;

grant insert (source, batch_id, entity, record_count), select (source, batch_id, entity), update (record_count)
  on bronze.deliveries to workbench_delivery;
grant insert (source, batch_id, record_seq, payload_raw), select (source, batch_id, record_seq, payload_raw)
  on bronze.scout_transactions_raw, bronze.scout_products_raw, bronze.expenses_raw to workbench_delivery;

grant execute on function
  bronze.sha256_hex(text),
  bronze.batch_sha256(text[]),
  bronze.deliver(text, text, text, text[]),
  bronze.deliver_batch(text, text, text, text[], text)
to workbench_delivery;
