{{ config(alias='scout_sales', indexes=[{'columns': ['sales_date', 'store_id', 'category'], 'unique': True}, {'columns': ['category', 'sales_date']}]) }}

-- The Scout sales mart: daily sales per store and category.
with

transactions as (

    select * from {{ ref('silver_validated_transactions') }}

),

final as (

    select
        transaction_date as sales_date,
        store_id,
        category,
        count(*) as transaction_count,
        sum(quantity) as units_sold,
        sum(amount)::numeric(14, 2) as revenue,
        count(distinct customer_id) as unique_customers,
        round(sum(amount) / count(*), 2) as avg_ticket

    from transactions
    group by 1, 2, 3

)

select * from final
