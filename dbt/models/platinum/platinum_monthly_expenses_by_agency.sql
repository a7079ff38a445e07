{{ config(indexes=[{'columns': ['month', 'agency'], 'unique': True}]) }}

-- Monthly expenses per agency, split by approval decision (gold.finance_expenses).
-- Every expense falls in exactly one of approved (by a person or automatically under the
-- threshold), pending, rejected and not submitted, so
-- total_amount = approved_amount + pending_approval_amount + rejected_amount + not_submitted_amount
-- (tested); a rejected expense never counts as approved.
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
        coalesce(sum(amount) filter (where is_approved), 0)::numeric(24, 2) as approved_amount,
        coalesce(sum(amount) filter (where approval_status = 'auto_approved'), 0)::numeric(24, 2) as auto_approved_amount,
        coalesce(sum(amount) filter (where approval_status = 'pending_approval'), 0)::numeric(24, 2) as pending_approval_amount,
        coalesce(sum(amount) filter (where approval_status = 'rejected'), 0)::numeric(24, 2) as rejected_amount,
        coalesce(sum(amount) filter (where approval_status = 'not_submitted'), 0)::numeric(24, 2) as not_submitted_amount,
        count(*) filter (where is_approved) as approved_count,
        count(*) filter (where approval_status = 'pending_approval') as pending_approval_count,
        count(*) filter (where approval_status = 'rejected') as rejected_count,
        count(*) filter (where approval_status = 'not_submitted') as not_submitted_count,
        count(*) filter (where requires_approval) as expenses_requiring_approval,
        sum(withholding_tax)::numeric(24, 2) as withholding_tax_total

    from expenses
    group by 1, 2

)

select * from final
