{{ config(materialized='view') }}

-- Rejected expense deliveries with every broken rule as a reason code.
{{ deliveries_with_status('silver_expense_classifications', 'quarantined',
    ['primary_reason', 'reason_codes', 'payload_raw', 'expense_id']) }}
