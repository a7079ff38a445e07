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

{{ parsed_deliveries('scout_transactions_raw') }},

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
