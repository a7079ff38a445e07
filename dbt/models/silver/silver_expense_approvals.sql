{{
    config(
        materialized='view',
        post_hook=["alter view {{ this }} set (security_invoker = true)"],
    )
}}

-- The expense-approval decisions, one row per expense, as the workbench records them.
-- A view with security_invoker: whoever reads it (dbt's login, an API user) reads
-- ip_workbench.expense_approvals under their own row level security, never the owner's.
-- Who decided (decided_by) stays out: it is not finance data. The import names its
-- columns (not `select *`): dbt's group role may read only these
-- (20261130002100_dbt_reads_expense_approvals.sql).
with

approvals as (

    select
        expense_id,
        status,
        amount,
        currency,
        decided_at,
        updated_at

    from {{ source('workbench', 'expense_approvals') }}

),

final as (

    select
        expense_id,
        status as approval_status,
        amount as decided_amount,
        currency as decided_currency,
        decided_at,
        updated_at

    from approvals

)

select * from final
