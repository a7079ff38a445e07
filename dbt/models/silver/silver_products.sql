{{
    config(
        indexes=[
            {'columns': ['product_id'], 'unique': True},
            {'columns': ['category']},
        ],
    )
}}

-- The product catalog: the latest valid version of each product.
select
    product_id,
    product_name,
    category,
    brand,
    unit_price::numeric(12, 2) as unit_price,
    updated_at,
    ingest_id

from {{ ref('silver_product_classifications') }}
where status = 'current'
