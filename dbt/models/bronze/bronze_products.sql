{{ config(incremental_strategy='append', indexes=[{'columns': ['ingest_id'], 'unique': True}]) }}

-- Product deliveries, parsed and typed once each (incremental by ingest_id; never
-- fails, see macros/bronze_model.sql).
{{ bronze_model(
    'scout_products_raw',
    text_fields=['product_id', 'product_name', 'category', 'brand'],
    typed_fields=[('unit_price', 'numeric'), ('updated_at', 'timestamptz')],
) }}
