{{ config(materialized='view') }}

-- Valid deliveries of an expense_id that was already accepted: counted, not loaded.
{{ deliveries_with_status('silver_expense_classifications', 'duplicate', ['expense_id', 'payload_hash']) }}
