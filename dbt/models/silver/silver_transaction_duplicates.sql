{{ config(materialized='view') }}

-- Valid deliveries of a transaction_id that was already accepted: counted, not loaded.
{{ deliveries_with_status('silver_transaction_classifications', 'duplicate', ['transaction_id', 'payload_hash']) }}
