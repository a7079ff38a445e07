{{ config(materialized='view') }}

-- Valid deliveries of a transaction_id that was already accepted: counted, not loaded.
select
    ingest_id,
    source,
    batch_id,
    record_seq,
    received_at,
    transaction_id,
    payload_hash

from {{ ref('silver_transaction_classifications') }}
where status = 'duplicate'
