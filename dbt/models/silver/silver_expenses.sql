{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='expense_id',
        indexes=[
            {'columns': ['expense_id'], 'unique': True},
            {'columns': ['expense_date']},
            {'columns': ['agency', 'expense_date']},
            {'columns': ['ingest_id']},
        ],
    )
}}

-- Expenses that passed every rule, one row per expense_id (the first delivery).
with

classifications as (

    select * from {{ ref('silver_expense_classifications') }}
    where status = 'valid'
    {% if is_incremental() -%}
        and ingest_id > {{ watermark('ingest_id') }}
    {%- endif %}

),

final as (

    select
        expense_id,
        agency,
        employee_id,
        vendor,
        category,
        currency,
        description,
        amount::numeric(14, 2) as amount,
        expense_date,
        ingest_id,
        batch_id,
        received_at

    from classifications

)

select * from final
