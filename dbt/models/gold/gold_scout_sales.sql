{{
    config(
        materialized='incremental',
        on_schema_change='sync_all_columns',
        incremental_strategy='delete+insert',
        unique_key=['sales_date', 'store_id', 'category'],
        indexes=[
            {'columns': ['sales_date', 'store_id', 'category'], 'unique': True},
            {'columns': ['category', 'sales_date']},
        ],
    )
}}

-- The Scout sales mart: daily sales per store and category. Incremental: only the days
-- that received new transactions are recomputed (from all of their transactions).
with

{% if is_incremental() -%}
touched_days as (

    select distinct transaction_date
    from {{ ref('silver_validated_transactions') }}
    where ingest_id > {{ watermark('max_ingest_id') }}

),
{%- endif %}

transactions as (

    select * from {{ ref('silver_validated_transactions') }}
    {% if is_incremental() -%}
    where transaction_date in (select transaction_date from touched_days)
    {%- endif %}

),

final as (

    select
        transaction_date as sales_date,
        store_id,
        category,
        count(*) as transaction_count,
        sum(quantity) as units_sold,
        sum(amount)::numeric(24, 2) as revenue,
        count(distinct customer_id) as unique_customers,
        round(sum(amount) / count(*), 2) as avg_ticket,
        max(ingest_id) as max_ingest_id

    from transactions
    group by 1, 2, 3

)

select * from final
