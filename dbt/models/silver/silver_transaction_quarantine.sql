{{ config(materialized='view') }}

-- Rejected transaction deliveries with every broken rule as a reason code. Nothing is
-- dropped: fix the source and re-deliver under a new batch id.
select
    ingest_id,
    source,
    batch_id,
    record_seq,
    received_at,
    primary_reason,
    reason_codes,
    payload_raw,
    transaction_id

from {{ ref('silver_transaction_classifications') }}
where status = 'quarantined'
