{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key=['product_id', 'paired_product_id'],
        indexes=[{'columns': ['product_id', 'paired_product_id'], 'unique': True}],
    )
}}

-- In how many baskets each ordered pair of products was bought together, counted from
-- platinum_basket_items; the diagonal (a product paired with itself) is the number of
-- baskets holding the product. Pairs bought together once are kept: one more basket
-- makes them a recommendation.
--
-- Incremental: a pair is new to a basket exactly when the later of its two items is
-- (items are only added), so each run counts, in the baskets that gained items, the
-- pairs whose later item is past the watermark (max_ingest_id), and adds them to the
-- counts held here. No pair of an untouched basket is read.
with

{% if is_incremental() -%}
touched_baskets as (

    select distinct customer_id, basket_month
    from {{ ref('platinum_basket_items') }}
    where ingest_id > {{ watermark('max_ingest_id') }}

),

basket_items as (

    select items.*
    from {{ ref('platinum_basket_items') }} as items
    inner join touched_baskets
        on touched_baskets.customer_id = items.customer_id
        and touched_baskets.basket_month = items.basket_month

),

{%- else -%}
basket_items as (

    select * from {{ ref('platinum_basket_items') }}

),

{%- endif %}

pairs as (

    select
        a.product_id,
        b.product_id as paired_product_id,
        count(*) as co_purchase_count,
        max(greatest(a.ingest_id, b.ingest_id)) as max_ingest_id

    from basket_items as a
    inner join basket_items as b
        on b.customer_id = a.customer_id
        and b.basket_month = a.basket_month
    {% if is_incremental() -%}
    where greatest(a.ingest_id, b.ingest_id) > {{ watermark('max_ingest_id') }}
    {%- endif %}
    group by 1, 2

),

final as (

    select
        pairs.product_id,
        pairs.paired_product_id,
        {% if is_incremental() -%}
        coalesce(held.co_purchase_count, 0) + pairs.co_purchase_count as co_purchase_count,
        greatest(held.max_ingest_id, pairs.max_ingest_id) as max_ingest_id
        {%- else -%}
        pairs.co_purchase_count,
        pairs.max_ingest_id
        {%- endif %}

    from pairs
    {% if is_incremental() -%}
    left join {{ this }} as held
        on held.product_id = pairs.product_id
        and held.paired_product_id = pairs.paired_product_id
    {%- endif %}

)

select * from final
