{{ config(indexes=[{'columns': ['product_id', 'recommended_product_id'], 'unique': True}]) }}

-- Co-purchase features for item-to-item recommendations ("bought together with"). A
-- basket is what one customer bought in one calendar month (same-day baskets are too
-- sparse in this data to recommend from; all-time baskets grow quadratically); for each
-- ordered product pair in at least two baskets: support, confidence
-- (P(recommended | product)) and lift.
--
-- Every support and lift divides by the count of all baskets, so any new basket changes
-- every row: this table is rewritten each run, but from the pair and basket counts that
-- platinum_basket_items and platinum_product_pair_counts keep incrementally (at most
-- products x products rows), never from the transaction history.
with

pair_counts as (

    select * from {{ ref('platinum_product_pair_counts') }}

),

basket_count as (

    select count(*) as total_baskets
    from {{ ref('platinum_basket_items') }}
    where opens_basket

),

-- A product paired with itself: the number of baskets holding it.
product_baskets as (

    select
        product_id,
        co_purchase_count as baskets_with_product

    from pair_counts
    where paired_product_id = product_id

),

pairs as (

    select
        product_id,
        paired_product_id as recommended_product_id,
        co_purchase_count

    from pair_counts
    where paired_product_id <> product_id
        and co_purchase_count >= 2

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
