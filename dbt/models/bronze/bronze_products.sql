{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[{'columns': ['ingest_id'], 'unique': True}],
    )
}}

-- Product deliveries, parsed and typed once each (incremental by ingest_id; never
-- fails, see bronze_transactions).
with

landing as (

    select * from {{ source('landing', 'scout_products_raw') }}
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
        payload ->> 'product_id' as product_id,
        payload ->> 'product_name' as product_name,
        payload ->> 'category' as category,
        payload ->> 'brand' as brand,
        payload ->> 'unit_price' as unit_price_raw,
        payload ->> 'updated_at' as updated_at_raw

    from objects

),

final as (

    select
        *,
        bronze.try_numeric(unit_price_raw) as unit_price,
        bronze.try_timestamptz(updated_at_raw) as updated_at

    from fields

)

select * from final
