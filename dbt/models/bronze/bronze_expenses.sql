{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[{'columns': ['ingest_id'], 'unique': True}],
    )
}}

-- Expense deliveries, parsed and typed once each (incremental by ingest_id; never
-- fails, see bronze_transactions).
with

{{ parsed_deliveries('expenses_raw') }},

fields as (

    select
        ingest_id,
        source,
        batch_id,
        record_seq,
        received_at,
        payload_raw,
        payload_hash,
        payload,
        payload ->> 'expense_id' as expense_id,
        payload ->> 'agency' as agency,
        payload ->> 'employee_id' as employee_id,
        payload ->> 'vendor' as vendor,
        payload ->> 'category' as category,
        payload ->> 'currency' as currency,
        payload ->> 'description' as description,
        payload ->> 'amount' as amount_raw,
        payload ->> 'expense_date' as expense_date_raw

    from objects

),

final as (

    select
        *,
        bronze.try_numeric(amount_raw) as amount,
        bronze.try_date(expense_date_raw) as expense_date

    from fields

)

select * from final
