{{ config(alias='monthly_expenses_by_agency', indexes=[{'columns': ['month', 'agency'], 'unique': True}]) }}

-- Monthly expenses per agency, split by approval status.
with

expenses as (

    select * from {{ ref('gold_finance_expenses') }}

),

final as (

    select
        date_trunc('month', expense_date)::date as month,
        agency,
        count(*) as expense_count,
        sum(amount)::numeric(24, 2) as total_amount,
        coalesce(sum(amount) filter (where approval_status = 'auto_approved'), 0)::numeric(24, 2) as auto_approved_amount,
        coalesce(sum(amount) filter (where approval_status = 'pending_approval'), 0)::numeric(24, 2) as pending_approval_amount,
        count(*) filter (where requires_approval) as expenses_requiring_approval,
        sum(withholding_tax)::numeric(24, 2) as withholding_tax_total

    from expenses
    group by 1, 2

)

select * from final
