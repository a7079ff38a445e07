{{
    config(
        materialized='incremental',
        on_schema_change='sync_all_columns',
        incremental_strategy='merge',
        unique_key='transaction_id',
        indexes=[
            {'columns': ['transaction_id'], 'unique': True},
            {'columns': ['transaction_date']},
            {'columns': ['category', 'transaction_date']},
            {'columns': ['store_id']},
            {'columns': ['ingest_id']},
        ],
    )
}}

-- Transactions that passed every rule, one row per transaction_id (the first delivery;
-- macros/silver_models.sql).
{{ accepted_rows('silver_transaction_classifications', [
    'transaction_id',
    'store_id',
    'product_id',
    'category',
    'payment_method',
    'customer_id',
    'coalesce(quantity, 1)::integer as quantity',
    'unit_price::numeric(12, 2) as unit_price',
    'amount::numeric(14, 2) as amount',
    'transaction_date',
    'transaction_at',
]) }}
