-- Typed view over the raw expense deliveries (never fails; see bronze_transactions).
with

landing as (

    select * from {{ source('landing', 'expenses_raw') }}

),

fields as (

    select
        ingest_id,
        source,
        batch_id,
        record_seq,
        received_at,
        payload_raw,
        payload_hash,
        case when jsonb_typeof(payload) = 'object' then payload end as payload,
        payload ->> 'expense_id' as expense_id,
        payload ->> 'agency' as agency,
        payload ->> 'employee_id' as employee_id,
        payload ->> 'vendor' as vendor,
        payload ->> 'category' as category,
        payload ->> 'currency' as currency,
        payload ->> 'description' as description,
        payload ->> 'amount' as amount_raw,
        payload ->> 'expense_date' as expense_date_raw

    from landing

),

final as (

    select
        *,
        bronze.try_numeric(amount_raw) as amount,
        bronze.try_date(expense_date_raw) as expense_date

    from fields

)

select * from final
