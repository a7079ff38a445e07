{{ config(materialized='view') }}

-- Rejected transaction deliveries with every broken rule as a reason code. Nothing is
-- dropped: fix the source and re-deliver under a new batch id.
{{ deliveries_with_status('silver_transaction_classifications', 'quarantined',
    ['primary_reason', 'reason_codes', 'payload_raw', 'transaction_id']) }}
