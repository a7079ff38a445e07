-- Medallion schemas and the bronze landing tables.
--
-- A landing table keeps every delivered record exactly as it arrived (`payload_raw`,
-- text: it may not even be valid JSON) and nothing else but its delivery metadata, so a
-- load is close to a raw COPY. Parsing, hashing and typing happen in the bronze dbt
-- models; nothing is rejected here, the silver models decide, and what they refuse
-- lands in quarantine with a reason.
--
-- Re-delivery is idempotent per batch: `bronze.deliveries` has one row per
-- (source, batch_id, entity), inserted in the same transaction as the batch's rows, so a
-- batch is either wholly there or absent, and a second delivery of it is refused by the
-- primary key (loaders skip it). `bronze.deliver()` does this for callers without COPY
-- (the n8n webhook).

create schema if not exists bronze;
create schema if not exists silver;
create schema if not exists gold;
create schema if not exists platinum;

comment on schema bronze is 'Raw deliveries, as received (append-only; parsed JSON beside the raw text).';
comment on schema silver is 'Validated, typed, deduplicated records; rejects in silver quarantine models.';
comment on schema gold is 'Business marts.';
comment on schema platinum is 'AI-ready features and embedding inputs.';

-- Parses text as jsonb, or returns null when it is not valid JSON. Immutable so it can
-- back a stored generated column. (PostgreSQL 16 has pg_input_is_valid; 15 does not.)
create or replace function bronze.try_parse_jsonb(raw text)
returns jsonb
language plpgsql
immutable
parallel restricted
as $$
begin
  return raw::jsonb;
exception
  when others then
    return null;
end;
$$;

-- Casts that return null instead of failing, for the bronze models: one malformed
-- value must never fail a build. They validate with patterns strict enough that the cast
-- cannot fail, so they are plain SQL: inlined, no exception block. (A plpgsql exception
-- block opens a subtransaction per call: 5 of them per record made the bronze models the
-- slowest step of the build.) Only JSON parsing, which no pattern can validate, keeps an
-- exception block, in try_parse_jsonb above - hence `parallel restricted` there:
-- subtransactions cannot run in parallel workers.

-- Decimal notation, exponent of at most 4 digits (numeric's range is far larger).
create or replace function bronze.try_numeric(raw text)
returns numeric
language sql
immutable
parallel safe
return case
  when raw ~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]{1,4})?\s*$' then raw::numeric
end;

-- True when raw is YYYY-MM-DD naming a real calendar day (years 1000-9999).
create or replace function bronze.is_iso_date(raw text)
returns boolean
language sql
immutable
parallel safe
-- (case, not and: SQL does not promise to evaluate the pattern before the casts.)
return case
  when raw ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])' then
    substr(raw, 9, 2)::integer <= extract(
      day from (make_date(substr(raw, 1, 4)::integer, substr(raw, 6, 2)::integer, 1) + interval '1 month - 1 day')
    )
  else false
end;

create or replace function bronze.try_date(raw text)
returns date
language sql
immutable
parallel safe
return case when raw ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then case when bronze.is_iso_date(raw) then raw::date end end;

-- ISO 8601 date and time, optional fraction and offset (no offset: the session time zone).
create or replace function bronze.try_timestamptz(raw text)
returns timestamptz
language sql
stable
parallel safe
return case
  when raw ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?)?$'
    then case when bronze.is_iso_date(raw) then raw::timestamptz end
end;

-- sha256 of text as UTF-8, hex. convert_to() is only stable (it depends on the encoding
-- named), but a database's encoding never changes, so this is immutable in practice.
create or replace function bronze.sha256_hex(raw text)
returns text
language sql
immutable
parallel safe
return encode(pg_catalog.sha256(pg_catalog.convert_to(raw, 'UTF8')), 'hex');

create table if not exists bronze.deliveries (
  source text not null,
  batch_id text not null,
  entity text not null check (entity in ('scout_transactions', 'scout_products', 'expenses')),
  record_count integer not null check (record_count >= 0),
  received_at timestamptz not null default now(),
  constraint deliveries_pkey primary key (source, batch_id, entity)
);

comment on table bronze.deliveries is 'One row per delivered batch; its primary key makes re-delivery idempotent.';

do $$
declare
  landing text;
begin
  foreach landing in array array['scout_transactions_raw', 'scout_products_raw', 'expenses_raw'] loop
    -- ingest_id is unique by construction (identity) and only ever grows: the silver
    -- models' watermark. A BRIN index serves its range scans for almost no load cost.
    execute format($ddl$
      create table if not exists bronze.%1$I (
        ingest_id bigint generated always as identity,
        source text not null,
        batch_id text not null,
        record_seq integer not null check (record_seq >= 0),
        received_at timestamptz not null default now(),
        payload_raw text not null
      )$ddl$, landing);
    execute format('create index if not exists %1$s_ingest_id_brin on bronze.%1$I using brin (ingest_id)', landing);
  end loop;
end;
$$;

-- Delivers one batch of records (for callers without COPY): returns the rows inserted,
-- 0 when the batch was delivered before. Security invoker: callers need insert rights.
create or replace function bronze.deliver(entity text, source text, batch_id text, payloads text[])
returns integer
language plpgsql
set search_path = ''
as $$
declare
  landing text := case entity
    when 'scout_transactions' then 'scout_transactions_raw'
    when 'scout_products' then 'scout_products_raw'
    when 'expenses' then 'expenses_raw'
  end;
  inserted integer;
begin
  if landing is null then
    raise exception 'unknown entity %', entity using errcode = '22023',
      hint = 'use scout_transactions, scout_products or expenses';
  end if;
  insert into bronze.deliveries (source, batch_id, entity, record_count)
  values (deliver.source, deliver.batch_id, deliver.entity, coalesce(cardinality(payloads), 0))
  on conflict on constraint deliveries_pkey do nothing;
  if not found then
    return 0;
  end if;
  execute format(
    'insert into bronze.%I (source, batch_id, record_seq, payload_raw)
     select $1, $2, (ordinality - 1)::integer, payload from unnest($3::text[]) with ordinality as p(payload)',
    landing)
  using deliver.source, deliver.batch_id, payloads;
  get diagnostics inserted = row_count;
  return inserted;
end;
$$;

comment on table bronze.scout_transactions_raw is 'Scout retail transactions as delivered (batch loads, n8n webhook).';
comment on table bronze.scout_products_raw is 'Scout product catalog records as delivered.';
comment on table bronze.expenses_raw is 'Expense records as delivered (batch loads, Odoo sync).';

-- Raw data is for the pipeline, not for API users: only the service role reads and
-- writes bronze. Silver, gold and platinum are readable by signed-in users (execute_sql
-- and PostgREST); the Pulumi layer adds default privileges for the dbt runner's tables.
revoke all on schema bronze from public;
grant usage on schema bronze to service_role;
grant execute on all functions in schema bronze to service_role;
grant select, insert on all tables in schema bronze to service_role;
grant usage on schema silver, gold, platinum to authenticated, service_role;
