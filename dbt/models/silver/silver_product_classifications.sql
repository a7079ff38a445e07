{{
    config(
        indexes=[
            {'columns': ['ingest_id'], 'unique': True},
            {'columns': ['product_id']},
        ],
    )
}}

-- Every bronze product delivery, classified: the latest valid version of each product is
-- current, earlier versions are superseded, broken ones quarantined. Rebuilt in full:
-- the catalog is small and a later delivery can change which version is current. A
-- version stamped after the as-of date is quarantined (FUTURE_DATE): it would stay
-- current forever. The checks' shape: macros/silver_models.sql.
with

{{ checked_deliveries(
    'bronze_products',
    'allowed_categories',
    'product_id',
    new_only=false,
    rules=[
        reason_if("payload is null", "MALFORMED_JSON"),
        reason_if("payload is not null and (" ~ is_missing('product_id') ~ " or " ~ is_missing('product_name')
            ~ " or " ~ is_missing('category') ~ " or " ~ is_missing('unit_price') ~ ")", "MISSING_FIELD"),
        reason_if(is_untyped('unit_price_raw', 'unit_price') ~ " or " ~ is_untyped('updated_at_raw', 'updated_at')
            ~ " or " ~ any_not_text(['product_id', 'product_name', 'category', 'brand', 'updated_at']), "INVALID_TYPE"),
        reason_if(any_blank(['delivered.product_id', 'product_name', 'delivered.category']), "BLANK_FIELD"),
        reason_if(any_control_characters(['delivered.product_id', 'delivered.category']), "INVALID_CHARACTERS"),
        reason_if("unit_price <= 0", "NON_POSITIVE_AMOUNT"),
        reason_if(out_of_range('unit_price', max_price()), "AMOUNT_OUT_OF_RANGE"),
        reason_if(too_many_decimals('unit_price'), "TOO_MANY_DECIMALS"),
        reason_if("updated_at >= " ~ as_of_date() ~ " + 1", "FUTURE_DATE"),
        reason_if("updated_at < date '" ~ var('earliest_date') ~ "'", "DATE_OUT_OF_RANGE"),
        reason_if("delivered.category is not null and delivered.category not in (select category from allowed_categories)", "UNKNOWN_CATEGORY"),
        reason_if(any_oversized(['delivered.product_id', 'product_name', 'delivered.category', 'brand']), "OVERSIZED_FIELD"),
    ],
) }},

ranked as (

    select
        checked.*,
        row_number() over (
            partition by case when cardinality(reason_codes) = 0 then row_key end
            order by updated_at desc nulls last, ingest_id desc
        ) as version_rank

    from checked

),

final as (

    select
        ingest_id,
        batch_id,
        received_at,
        case
            when cardinality(reason_codes) > 0 then 'quarantined'
            when version_rank = 1 then 'current'
            else 'superseded'
        end as status,
        reason_codes,
        reason_codes[1] as primary_reason,
        case when cardinality(reason_codes) > 0 then payload_raw end as payload_raw,
        row_key as product_id,
        product_name,
        category,
        brand,
        unit_price,
        updated_at

    from ranked

)

select * from final
