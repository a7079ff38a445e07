{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        indexes=[
            {'columns': ['customer_id', 'basket_month', 'product_id'], 'unique': True},
            {'columns': ['ingest_id']},
        ],
    )
}}

-- What each basket holds: one row per (customer, calendar month, product) bought, with
-- the silver transaction that first put the product in the basket. The state behind
-- platinum_product_recommendations. Append-only: a basket only ever gains products, so
-- each run reads the transactions past the newest ingest_id here and adds the products
-- not yet in their basket. opens_basket marks each basket's first row (the count of
-- baskets is the count of those rows).
with

transactions as (

    select * from {{ ref('silver_validated_transactions') }}
    where customer_id is not null
    {% if is_incremental() -%}
        and ingest_id > {{ watermark('ingest_id') }}
    {%- endif %}

),

items as (

    select
        customer_id,
        date_trunc('month', transaction_date)::date as basket_month,
        product_id,
        min(ingest_id) as ingest_id

    from transactions
    group by 1, 2, 3

),

new_items as (

    select * from items
    {% if is_incremental() -%}
    where not exists (
        select 1 from {{ this }} as held
        where held.customer_id = items.customer_id
            and held.basket_month = items.basket_month
            and held.product_id = items.product_id
    )
    {%- endif %}

),

final as (

    select
        customer_id,
        basket_month,
        product_id,
        ingest_id,
        row_number() over (partition by customer_id, basket_month order by ingest_id, product_id) = 1
        {% if is_incremental() -%}
        and not exists (
            select 1 from {{ this }} as held
            where held.customer_id = new_items.customer_id
                and held.basket_month = new_items.basket_month
        )
        {%- endif %} as opens_basket

    from new_items

)

select * from final
