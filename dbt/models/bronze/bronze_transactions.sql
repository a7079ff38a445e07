{{ config(incremental_strategy='append', indexes=[{'columns': ['ingest_id'], 'unique': True}]) }}

-- Transaction deliveries, parsed and typed once each (incremental by ingest_id). Never
-- fails: a value that does not cast becomes null beside its raw text, and silver turns
-- the gaps into reason codes (macros/bronze_model.sql).
{{ bronze_model(
    'scout_transactions_raw',
    text_fields=['transaction_id', 'store_id', 'product_id', 'category', 'payment_method', 'customer_id'],
    typed_fields=[
        ('quantity', 'numeric'),
        ('unit_price', 'numeric'),
        ('amount', 'numeric'),
        ('transaction_date', 'date'),
        ('transaction_ts', 'timestamptz', 'transaction_at'),
    ],
) }}
