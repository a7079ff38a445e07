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

{{ parsed_deliveries('scout_products_raw') }},

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
