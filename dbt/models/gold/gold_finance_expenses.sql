{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='expense_id',
        on_schema_change='append_new_columns',
        indexes=[{'columns': ['expense_id'], 'unique': True}, {'columns': ['agency', 'expense_date']}, {'columns': ['source_ingest_id']}],
    )
}}

-- Expenses for finance: fiscal calendar, BIR withholding tax code and the approval
-- decision of record (ip_workbench.expense_approvals, through silver_expense_approvals):
-- auto_approved, pending_approval, approved, rejected; not_submitted when the
-- expense-approval workflow has not been asked about the expense yet.
--
-- Incremental on two things: new expenses (bronze ingest_id above the watermark) and
-- changed decisions. A decision is compared with what this table holds (status and the
-- decision row's updated_at), not with a time watermark, so a decision committed by a
-- transaction that started before the last build is still picked up, and a deleted
-- decision turns the expense back to not_submitted. Rows of this table holding no
-- decision and not_submitted (the common case) are never re-read.
with

approvals as (

    select * from {{ ref('silver_expense_approvals') }}

),

{% if is_incremental() -%}
{#- A table built before decisions were carried (no approval_updated_at yet; on_schema_change
    appends the column in this run) holds threshold-rule statuses only: every row is re-derived
    once, so an upgrade needs no --full-refresh. -#}
{%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | list -%}
built_decisions as (

    {% if 'approval_updated_at' in built_columns -%}
    select
        expense_id,
        approval_status,
        approval_updated_at

    from {{ this }}
    where approval_updated_at is not null or approval_status is distinct from 'not_submitted'
    {%- else -%}
    select
        expense_id,
        null::text as approval_status,
        null::timestamptz as approval_updated_at

    from {{ this }}
    {%- endif %}

),

changed_decisions as (

    select coalesce(approvals.expense_id, built_decisions.expense_id) as expense_id

    from approvals
    full outer join built_decisions
        on built_decisions.expense_id = approvals.expense_id
    where (coalesce(approvals.approval_status, 'not_submitted'), approvals.updated_at)
        is distinct from (built_decisions.approval_status, built_decisions.approval_updated_at)

),

{% endif -%}
expenses as (

    select * from {{ ref('silver_expenses') }}
    {% if is_incremental() -%}
    where ingest_id > {{ watermark('source_ingest_id') }}
        or expense_id in (select changed_decisions.expense_id from changed_decisions)
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
        coalesce(approvals.approval_status, 'not_submitted') as approval_status,
        coalesce(approvals.approval_status in ('approved', 'auto_approved'), false) as is_approved,
        approvals.decided_at as approval_decided_at,
        approvals.updated_at as approval_updated_at,
        calendar.ingest_id as source_ingest_id

    from calendar
    inner join tax_codes
        on tax_codes.category = calendar.category
    left join approvals
        on approvals.expense_id = calendar.expense_id

)

select * from final
