{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='transaction_id',
        indexes=[{'columns': ['transaction_id'], 'unique': True}, {'columns': ['source_ingest_id']}],
    )
}}

-- One text per transaction, ready to embed for semantic search (Genie) and RAG, with
-- the structured metadata a retriever filters on.
with

transactions as (

    -- Texts are written once per transaction: only the new ones each run.
    select * from {{ ref('silver_validated_transactions') }}
    {% if is_incremental() -%}
    where ingest_id > (select coalesce(max(source_ingest_id), 0) from {{ this }})
    {%- endif %}

),

products as (

    select * from {{ ref('silver_products') }}

),

final as (

    select
        transactions.transaction_id,
        format(
            'On %s customer %s bought %s x %s (%s) at store %s for %s via %s.',
            transactions.transaction_date,
            coalesce(transactions.customer_id, 'unknown'),
            transactions.quantity,
            coalesce(products.product_name, transactions.product_id),
            transactions.category,
            transactions.store_id,
            to_char(transactions.amount, 'FM999999990.00'),
            coalesce(transactions.payment_method, 'unknown payment')
        ) as embedding_text,
        jsonb_build_object(
            'transaction_date', transactions.transaction_date,
            'store_id', transactions.store_id,
            'product_id', transactions.product_id,
            'category', transactions.category,
            'amount', transactions.amount,
            'customer_id', transactions.customer_id
        ) as metadata,
        transactions.received_at as source_received_at,
        transactions.ingest_id as source_ingest_id

    from transactions
    left join products
        on products.product_id = transactions.product_id

)

select * from final
