{{
    config(
        alias='finance_expenses',
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='expense_id',
        indexes=[{'columns': ['expense_id'], 'unique': True}, {'columns': ['agency', 'expense_date']}, {'columns': ['source_ingest_id']}],
    )
}}

-- Expenses for finance: fiscal calendar, BIR withholding tax code and the approval
-- status of the expense-approval workflow (below the threshold: auto-approved).
with

expenses as (

    select * from {{ ref('silver_expenses') }}
    {% if is_incremental() -%}
    where ingest_id > (select coalesce(max(source_ingest_id), 0) from {{ this }})
    {%- endif %}

),

tax_codes as (

    select * from {{ ref('allowed_expense_categories') }}

),

calendar as (

    select
        expenses.*,
        extract(year from expense_date)::integer as calendar_year,
        extract(month from expense_date)::integer as calendar_month,
        {{ var('fiscal_year_start_month') }} as fiscal_start

    from expenses

),

final as (

    select
        calendar.expense_id,
        calendar.agency,
        calendar.employee_id,
        calendar.vendor,
        calendar.category,
        calendar.description,
        calendar.currency,
        calendar.amount,
        calendar.expense_date,
        -- Fiscal years are named after the calendar year they end in.
        calendar.calendar_year + case when fiscal_start > 1 and calendar_month >= fiscal_start then 1 else 0 end
            as fiscal_year,
        ((calendar_month - fiscal_start + 12) % 12) / 3 + 1 as fiscal_quarter,
        ((calendar_month - fiscal_start + 12) % 12) + 1 as fiscal_month,
        tax_codes.bir_tax_code,
        tax_codes.withholding_rate,
        round(calendar.amount * tax_codes.withholding_rate, 2) as withholding_tax,
        calendar.amount >= {{ var('approval_threshold_usd') }} as requires_approval,
        case
            when calendar.amount < {{ var('approval_threshold_usd') }} then 'auto_approved'
            else 'pending_approval'
        end as approval_status,
        calendar.ingest_id as source_ingest_id

    from calendar
    inner join tax_codes
        on tax_codes.category = calendar.category

)

select * from final
