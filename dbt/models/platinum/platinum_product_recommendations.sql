{{ config(indexes=[{'columns': ['product_id', 'recommended_product_id'], 'unique': True}]) }}

-- Co-purchase features for item-to-item recommendations ("bought together with"). A
-- basket is what one customer bought in one calendar month (same-day baskets are too
-- sparse in this data to recommend from; all-time baskets grow quadratically); for each
-- ordered product pair in at least two baskets: support, confidence
-- (P(recommended | product)) and lift.
with

transactions as (

    select * from {{ ref('silver_validated_transactions') }}
    where customer_id is not null

),

basket_items as (

    select distinct
        customer_id || '|' || date_trunc('month', transaction_date)::date as basket_id,
        product_id

    from transactions

),

basket_count as (

    select count(distinct basket_id) as total_baskets from basket_items

),

product_baskets as (

    select product_id, count(*) as baskets_with_product
    from basket_items
    group by 1

),

pairs as (

    select
        a.product_id,
        b.product_id as recommended_product_id,
        count(*) as co_purchase_count

    from basket_items as a
    inner join basket_items as b
        on b.basket_id = a.basket_id
        and b.product_id <> a.product_id
    group by 1, 2
    having count(*) >= 2

),

final as (

    select
        pairs.product_id,
        pairs.recommended_product_id,
        pairs.co_purchase_count,
        round(pairs.co_purchase_count::numeric / basket_count.total_baskets, 6) as support,
        round(pairs.co_purchase_count::numeric / antecedent.baskets_with_product, 6) as confidence,
        round(
            (pairs.co_purchase_count::numeric / antecedent.baskets_with_product)
            / (consequent.baskets_with_product::numeric / basket_count.total_baskets),
            4
        ) as lift

    from pairs
    cross join basket_count
    inner join product_baskets as antecedent
        on antecedent.product_id = pairs.product_id
    inner join product_baskets as consequent
        on consequent.product_id = pairs.recommended_product_id

)

select * from final
