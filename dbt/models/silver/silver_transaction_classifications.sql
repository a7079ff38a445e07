{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[
            {'columns': ['ingest_id'], 'unique': True},
            {'columns': ['transaction_id']},
            {'columns': ['status']},
        ],
    )
}}

-- Every bronze transaction, classified exactly once: valid, quarantined (with one
-- reason code per broken rule) or duplicate. Append-only by ingest_id: a row's verdict
-- never changes, so each run reads only the new deliveries.
with

new_rows as (

    select * from {{ ref('bronze_transactions') }}
    {{ new_rows_only() }}

),

allowed_categories as (

    select category from {{ ref('allowed_categories') }}

),

checked as (

    select
        new_rows.*,
        {{ reason_codes([
            reason_if("payload is null", "MALFORMED_JSON"),
            reason_if("payload is not null and (" ~ is_missing('transaction_id') ~ " or " ~ is_missing('store_id')
                ~ " or " ~ is_missing('product_id') ~ " or " ~ is_missing('category') ~ " or " ~ is_missing('amount')
                ~ " or " ~ is_missing('transaction_date') ~ ")", "MISSING_FIELD"),
            reason_if(is_untyped('amount_raw', 'amount') ~ " or " ~ is_untyped('quantity_raw', 'quantity')
                ~ " or " ~ is_untyped('transaction_date_raw', 'transaction_date')
                ~ " or (quantity is not null and (quantity <> trunc(quantity) or abs(quantity) > 1000000))", "INVALID_TYPE"),
            reason_if("amount <= 0", "NON_POSITIVE_AMOUNT"),
            reason_if("transaction_date > " ~ as_of_date(), "FUTURE_DATE"),
            reason_if("new_rows.category is not null and new_rows.category not in (select category from allowed_categories)", "UNKNOWN_CATEGORY"),
            reason_if(any_oversized(['transaction_id', 'store_id', 'product_id', 'new_rows.category', 'payment_method', 'customer_id']), "OVERSIZED_FIELD"),
        ]) }} as reason_codes

    from new_rows

),

{{ classify_rows('transaction_id') }},

final as (

    select
        ingest_id,
        source,
        batch_id,
        record_seq,
        received_at,
        status,
        reason_codes,
        reason_codes[1] as primary_reason,
        -- The raw text is kept for rejected rows only: what to fix is visible without
        -- going back to bronze, and valid rows do not carry it twice.
        case when status = 'quarantined' then payload_raw end as payload_raw,
        payload_hash,
        transaction_id,
        store_id,
        product_id,
        category,
        payment_method,
        customer_id,
        quantity,
        unit_price,
        amount,
        transaction_date,
        transaction_at,
        now() as classified_at

    from classified

)

select * from final
