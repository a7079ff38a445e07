{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[{'columns': ['ingest_id'], 'unique': True}],
    )
}}

-- Expense deliveries, parsed and typed once each (incremental by ingest_id; never
-- fails, see bronze_transactions).
with

landing as (

    select * from {{ source('landing', 'expenses_raw') }}
    {{ new_rows_only() }}

),

parsed as (

    -- `offset 0` keeps the planner from inlining the parse into every expression that
    -- uses it: PostgreSQL does not share common subexpressions, so each field would
    -- parse the whole payload again.
    select
        landing.*,
        bronze.sha256_hex(landing.payload_raw) as payload_hash,
        parse.parsed

    from landing
    cross join lateral (select bronze.try_parse_jsonb(landing.payload_raw) as parsed offset 0) as parse

),

objects as (

    -- A payload that parses but is not a JSON object (an array, a number) is as
    -- unusable as one that does not parse: both become null.
    select
        parsed.*,
        case when jsonb_typeof(parsed) = 'object' then parsed end as payload

    from parsed

),

fields as (

    select
        ingest_id,
        source,
        batch_id,
        record_seq,
        received_at,
        payload_raw,
        payload_hash,
        payload,
        payload ->> 'expense_id' as expense_id,
        payload ->> 'agency' as agency,
        payload ->> 'employee_id' as employee_id,
        payload ->> 'vendor' as vendor,
        payload ->> 'category' as category,
        payload ->> 'currency' as currency,
        payload ->> 'description' as description,
        payload ->> 'amount' as amount_raw,
        payload ->> 'expense_date' as expense_date_raw

    from objects

),

final as (

    select
        *,
        bronze.try_numeric(amount_raw) as amount,
        bronze.try_date(expense_date_raw) as expense_date

    from fields

)

select * from final
