{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[{'columns': ['ingest_id'], 'unique': True}],
    )
}}

-- Transaction deliveries, parsed and typed once each (incremental by ingest_id). Never
-- fails: a value that does not cast becomes null beside its raw text, and silver turns
-- the gaps into reason codes.
with

landing as (

    select * from {{ source('landing', 'scout_transactions_raw') }}
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
        payload ->> 'transaction_id' as transaction_id,
        payload ->> 'store_id' as store_id,
        payload ->> 'product_id' as product_id,
        payload ->> 'category' as category,
        payload ->> 'payment_method' as payment_method,
        payload ->> 'customer_id' as customer_id,
        payload ->> 'quantity' as quantity_raw,
        payload ->> 'unit_price' as unit_price_raw,
        payload ->> 'amount' as amount_raw,
        payload ->> 'transaction_date' as transaction_date_raw,
        payload ->> 'transaction_ts' as transaction_ts_raw

    from objects

),

final as (

    select
        *,
        bronze.try_numeric(quantity_raw) as quantity,
        bronze.try_numeric(unit_price_raw) as unit_price,
        bronze.try_numeric(amount_raw) as amount,
        bronze.try_date(transaction_date_raw) as transaction_date,
        bronze.try_timestamptz(transaction_ts_raw) as transaction_at

    from fields

)

select * from final
