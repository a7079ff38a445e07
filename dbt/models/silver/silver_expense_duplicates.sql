{{ config(materialized='view') }}

-- Valid deliveries of an expense_id that was already accepted: counted, not loaded.
select
    ingest_id,
    source,
    batch_id,
    record_seq,
    received_at,
    expense_id,
    payload_hash

from {{ ref('silver_expense_classifications') }}
where status = 'duplicate'
