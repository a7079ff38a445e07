{{ config(materialized='view') }}

-- Rejected expense deliveries with every broken rule as a reason code.
select
    ingest_id,
    source,
    batch_id,
    record_seq,
    received_at,
    primary_reason,
    reason_codes,
    payload_raw,
    expense_id

from {{ ref('silver_expense_classifications') }}
where status = 'quarantined'
