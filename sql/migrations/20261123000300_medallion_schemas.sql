-- Medallion schemas and the bronze landing tables.
--
-- Bronze keeps every delivered record exactly as it arrived: `payload_raw` is the text
-- as delivered (it may not even be valid JSON), `payload` its parsed form (null when it
-- does not parse). Nothing is rejected here; the silver models decide, and what they
-- refuse lands in quarantine with a reason. A delivery is identified by
-- (source, batch_id, record_seq): re-delivering a batch adds nothing.

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
set search_path = ''
as $$
begin
  return raw::jsonb;
exception
  when others then
    return null;
end;
$$;

-- Casts that return null instead of failing, for the bronze models: one malformed
-- value must never fail a build. Regex guards keep the exception path rare. The
-- exception blocks open subtransactions, which parallel workers cannot: hence
-- `parallel restricted` (the leader evaluates them).
create or replace function bronze.try_numeric(raw text)
returns numeric
language plpgsql
immutable
parallel restricted
set search_path = ''
as $$
begin
  if raw is null or raw !~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$' then
    return null;
  end if;
  return raw::numeric;
exception
  when others then
    return null;
end;
$$;

create or replace function bronze.try_date(raw text)
returns date
language plpgsql
immutable
parallel restricted
set search_path = ''
as $$
begin
  if raw is null or raw !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
    return null;
  end if;
  return raw::date;
exception
  when others then
    return null;
end;
$$;

create or replace function bronze.try_timestamptz(raw text)
returns timestamptz
language plpgsql
stable
parallel restricted
set search_path = ''
as $$
begin
  if raw is null or raw !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}' then
    return null;
  end if;
  return raw::timestamptz;
exception
  when others then
    return null;
end;
$$;

-- sha256 of text as UTF-8, hex. convert_to() is only stable (it depends on the encoding
-- named), but a database's encoding never changes, so this is immutable in practice.
create or replace function bronze.sha256_hex(raw text)
returns text
language sql
immutable
parallel safe
set search_path = ''
return encode(pg_catalog.sha256(pg_catalog.convert_to(raw, 'UTF8')), 'hex');

do $$
declare
  landing text;
begin
  foreach landing in array array['scout_transactions_raw', 'scout_products_raw', 'expenses_raw'] loop
    execute format($ddl$
      create table if not exists bronze.%1$I (
        ingest_id bigint generated always as identity primary key,
        source text not null,
        batch_id text not null,
        record_seq integer not null check (record_seq >= 0),
        received_at timestamptz not null default now(),
        payload_raw text not null,
        payload jsonb generated always as (bronze.try_parse_jsonb(payload_raw)) stored,
        payload_hash text generated always as (bronze.sha256_hex(payload_raw)) stored,
        constraint %1$s_delivery_key unique (source, batch_id, record_seq)
      )$ddl$, landing);
    execute format('create index if not exists %1$s_received_at_idx on bronze.%1$I (received_at)', landing);
    execute format('create index if not exists %1$s_batch_idx on bronze.%1$I (batch_id)', landing);
  end loop;
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
