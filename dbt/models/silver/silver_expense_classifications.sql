{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[
            {'columns': ['ingest_id'], 'unique': True},
            {'columns': ['expense_id']},
            {'columns': ['status']},
        ],
    )
}}

-- Every bronze expense, classified exactly once (see silver_transaction_classifications;
-- the rules are listed in macros/bounds.sql).
with

new_rows as (

    select * from {{ ref('bronze_expenses') }}
    {{ new_rows_only() }}

),

allowed_categories as (

    select category from {{ ref('allowed_expense_categories') }}

),

checked as (

    select
        new_rows.*,
        {{ normalized_id('new_rows.expense_id') }} as expense_key,
        {{ reason_codes([
            reason_if("payload is null", "MALFORMED_JSON"),
            reason_if("payload is not null and (" ~ is_missing('expense_id') ~ " or " ~ is_missing('agency')
                ~ " or " ~ is_missing('category') ~ " or " ~ is_missing('amount') ~ " or " ~ is_missing('expense_date') ~ ")",
                "MISSING_FIELD"),
            reason_if(is_untyped('amount_raw', 'amount') ~ " or " ~ is_untyped('expense_date_raw', 'expense_date')
                ~ " or " ~ any_not_text(['expense_id', 'agency', 'employee_id', 'vendor', 'category', 'currency', 'description']),
                "INVALID_TYPE"),
            reason_if(any_blank(['new_rows.expense_id', 'agency', 'new_rows.category']), "BLANK_FIELD"),
            reason_if(any_control_characters(['new_rows.expense_id', 'agency', 'employee_id', 'new_rows.category', 'currency']), "INVALID_CHARACTERS"),
            reason_if("amount <= 0", "NON_POSITIVE_AMOUNT"),
            reason_if(out_of_range('amount', max_amount()), "AMOUNT_OUT_OF_RANGE"),
            reason_if(too_many_decimals('amount'), "TOO_MANY_DECIMALS"),
            reason_if("expense_date > " ~ as_of_date(), "FUTURE_DATE"),
            reason_if(too_old('expense_date'), "DATE_OUT_OF_RANGE"),
            reason_if("new_rows.category is not null and new_rows.category not in (select category from allowed_categories)", "UNKNOWN_CATEGORY"),
            reason_if(any_oversized(['new_rows.expense_id', 'agency', 'employee_id', 'vendor', 'new_rows.category', 'currency', 'description']), "OVERSIZED_FIELD"),
        ]) }} as reason_codes

    from new_rows

),

{{ classify_rows('expense_key', 'expense_id') }},

final as (

    select
        ingest_id,
        source,
        batch_id,
        record_seq,
        received_at,
        status,
        reason_codes,
        reason_codes[1] as primary_reason,
        case when status = 'quarantined' then payload_raw end as payload_raw,
        payload_hash,
        expense_key as expense_id,
        btrim(agency) as agency,
        {{ normalized_id('employee_id') }} as employee_id,
        vendor,
        category,
        coalesce(currency, 'USD') as currency,
        description,
        amount,
        expense_date,
        now() as classified_at

    from classified

)

select * from final
