{{ config(incremental_strategy='append', indexes=[{'columns': ['ingest_id'], 'unique': True}]) }}

-- Expense deliveries, parsed and typed once each (incremental by ingest_id; never
-- fails, see macros/bronze_model.sql).
{{ bronze_model(
    'expenses_raw',
    text_fields=['expense_id', 'agency', 'employee_id', 'vendor', 'category', 'currency', 'description'],
    typed_fields=[('amount', 'numeric'), ('expense_date', 'date')],
) }}
