-- the upstream delivery's group role (20261130003000): what the local stack's sample loader
-- (lib/sample-data/loader.ts) and a function caller (bronze.deliver_batch, as n8n's
-- real-time-transactions workflow calls it) do, and a sample of what it cannot. superuser
-- mode: the fixtures are written here, then the block runs as a login that is a member of
-- workbench_delivery only, the way the database layer creates wb_<env>_delivery. the login
-- itself, with its generated password after a real `up`, is tested by
-- test/integration/automation-logins.test.ts.
begin;
create extension if not exists pgtap;

select plan(30);

-- rows and relations a delivery must not see or touch
insert into auth.users (id, email) values ('a7100000-0000-4000-8000-000000000001', 'someone@delivery.test');
insert into ip_workbench.tables (id, schema_name, table_name, layer, resource_type) values
  ('b7100000-0000-4000-8000-000000000001', 'gold', 'delivery_test', 'gold', 'model');
insert into bronze.sync_cursors (source, entity, cursor_at, cursor_id) values ('odoo', 'expenses', '2026-11-01', 7);
create table silver.delivery_silver (i int);
grant select on silver.delivery_silver to authenticated, workbench_n8n;
create table gold.delivery_gold (i int);
grant select on gold.delivery_gold to authenticated;
insert into bronze.deliveries (source, batch_id, entity, record_count) values ('odoo', 'earlier', 'expenses', 1);
insert into bronze.expenses_raw (source, batch_id, record_seq, payload_raw) values ('odoo', 'earlier', 0, '{"id": 1}');

select ok(
  not exists (
    select 1 from unnest(array['silver', 'gold', 'platinum', 'ip_workbench', 'private', 'auth', 'n8n', 'llm_gateway', 'workbench_migrations', 'public']) as s
    where has_schema_privilege('workbench_delivery', s, 'usage')
      and not (s = 'public' and has_schema_privilege('public', s, 'usage'))
  ),
  'delivery: usage on no schema but bronze (public only as everyone has it)'
);
select ok(
  not has_schema_privilege('workbench_delivery', 'bronze', 'create'),
  'delivery: creates nothing in bronze'
);
select is(
  (select string_agg(c.relname, ',' order by c.relname) from pg_class as c
   where c.relnamespace = 'bronze'::regnamespace and c.relkind in ('r', 'p', 'v', 'm')
     and has_any_column_privilege('workbench_delivery', c.oid, 'select, insert, update')),
  'deliveries,expenses_raw,scout_products_raw,scout_transactions_raw',
  'delivery: touches the landing tables and deliveries only (not the sync cursor or quarantine)'
);
select ok(
  not exists (
    select 1 from pg_class as c
    where c.relnamespace = 'bronze'::regnamespace and c.relkind in ('r', 'p')
      and has_table_privilege('workbench_delivery', c.oid, 'update, delete, truncate, references, trigger')
  ),
  'delivery: no table-wide update, delete, truncate, references or trigger in bronze'
);
select is(
  (select string_agg(p.proname, ',' order by p.proname) from pg_proc as p
   where p.pronamespace = 'bronze'::regnamespace
     and has_function_privilege('workbench_delivery', p.oid, 'execute')
     and not has_function_privilege('public', p.oid, 'execute')),
  'batch_sha256,deliver_batch',
  'delivery: of the bronze functions kept from public, only the two deliver_batch needs (not the sync''s)'
);

create role aiwb_delivery_test_login login;
grant workbench_delivery to aiwb_delivery_test_login;
set local session authorization aiwb_delivery_test_login;

-- the COPY path, statement by statement (COPY is checked as an insert of the same columns)
with d as (
  insert into bronze.deliveries (source, batch_id, entity, record_count) values ('sample-data', 'sample-1', 'scout_products', 0)
  on conflict on constraint deliveries_pkey do nothing returning 1
)
select is((select count(*)::int from d), 1, 'delivery: opens a batch (insert ... on conflict do nothing)');
select lives_ok(
  $$insert into bronze.scout_products_raw (source, batch_id, record_seq, payload_raw) values ('sample-data', 'sample-1', 0, '{"p": 1}'), ('sample-data', 'sample-1', 1, '{"p": 2}')$$,
  'delivery: lands the batch''s records (the columns COPY writes)');
with u as (
  update bronze.deliveries set record_count = 2 where source = 'sample-data' and batch_id = 'sample-1' and entity = 'scout_products' returning 1
)
select is((select count(*)::int from u), 1, 'delivery: records the batch''s count');
with d as (
  insert into bronze.deliveries (source, batch_id, entity, record_count) values ('sample-data', 'sample-1', 'scout_products', 0)
  on conflict on constraint deliveries_pkey do nothing returning 1
)
select is((select count(*)::int from d), 0, 'delivery: a re-delivered batch is skipped');
-- the functions (n8n's real-time-transactions workflow)
select is(
  (select bronze.deliver_batch('scout_transactions', 'pos', 'sha256:' || bronze.sha256_hex('[1]'), array['{"id": 1}'], 'refuse') ->> 'status'),
  'new', 'delivery: deliver_batch lands a batch');
select is(
  (select bronze.deliver_batch('scout_transactions', 'pos', 'sha256:' || bronze.sha256_hex('[1]'), array['{"id": 1}'], 'refuse') ->> 'status'),
  'duplicate', 'delivery: deliver_batch recognises the same batch');
select is(
  (select bronze.deliver_batch('scout_transactions', 'pos', 'sha256:' || bronze.sha256_hex('[1]'), array['{"id": 2}'], 'refuse') ->> 'status'),
  'conflict', 'delivery: deliver_batch reads the batch back (a conflict, nothing stored)');
select is(
  bronze.deliver('expenses', 'upstream', 'e-1', array['{"e": 1}']),
  1, 'delivery: deliver lands an expense batch');

-- what it cannot
select throws_ok($$update bronze.scout_products_raw set payload_raw = '{}'$$, '42501', null, 'delivery: cannot change delivered records');
select throws_ok($$delete from bronze.expenses_raw$$, '42501', null, 'delivery: cannot delete delivered records');
select throws_ok($$truncate bronze.scout_transactions_raw$$, '42501', null, 'delivery: cannot truncate a landing table');
select throws_ok($$delete from bronze.deliveries$$, '42501', null, 'delivery: cannot forget a delivery (re-delivering it)');
select throws_ok($$update bronze.deliveries set batch_id = 'moved'$$, '42501', null, 'delivery: cannot rename a delivery');
select throws_ok($$create table bronze.delivery_oops (i int)$$, '42501', null, 'delivery: no ddl in bronze');
select throws_ok($$alter table bronze.expenses_raw add column oops int$$, '42501', null, 'delivery: cannot alter a landing table');
select throws_ok($$select * from bronze.sync_cursors$$, '42501', null, 'delivery: cannot read the sync cursor');
select throws_ok($$select bronze.advance_sync_cursor('odoo', 'expenses', '2026-12-01', 9)$$, '42501', null, 'delivery: cannot move the sync cursor');
select throws_ok($$select * from silver.delivery_silver$$, '42501', null, 'delivery: cannot read silver');
select throws_ok($$select * from gold.delivery_gold$$, '42501', null, 'delivery: cannot read gold');
select throws_ok($$select * from ip_workbench.tables$$, '42501', null, 'delivery: cannot read the catalog');
select throws_ok($$select * from auth.users$$, '42501', null, 'delivery: cannot read auth.users');
select throws_ok($$select * from private.llm_caller_keys$$, '42501', null, 'delivery: cannot read secrets in private');
select throws_ok($$select rolpassword from pg_authid$$, '42501', null, 'delivery: cannot read password hashes');
select throws_ok($$set role authenticated$$, '42501', null, 'delivery: cannot become an api role');
select throws_ok($$select ip_workbench.execute_sql('select 1', 10)$$, '42501', null, 'delivery: cannot call execute_sql');

reset session authorization;
select * from finish();
rollback;
