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
-- current forever.
with

deliveries as (

    select * from {{ ref('bronze_products') }}

),

allowed_categories as (

    select category from {{ ref('allowed_categories') }}

),

checked as (

    select
        deliveries.*,
        {{ normalized_id('deliveries.product_id') }} as product_key,
        {{ reason_codes([
            reason_if("payload is null", "MALFORMED_JSON"),
            reason_if("payload is not null and (" ~ is_missing('product_id') ~ " or " ~ is_missing('product_name')
                ~ " or " ~ is_missing('category') ~ " or " ~ is_missing('unit_price') ~ ")", "MISSING_FIELD"),
            reason_if(is_untyped('unit_price_raw', 'unit_price') ~ " or " ~ is_untyped('updated_at_raw', 'updated_at')
                ~ " or " ~ any_not_text(['product_id', 'product_name', 'category', 'brand', 'updated_at']), "INVALID_TYPE"),
            reason_if(any_blank(['deliveries.product_id', 'product_name', 'deliveries.category']), "BLANK_FIELD"),
            reason_if(any_control_characters(['deliveries.product_id', 'deliveries.category']), "INVALID_CHARACTERS"),
            reason_if("unit_price <= 0", "NON_POSITIVE_AMOUNT"),
            reason_if(out_of_range('unit_price', max_price()), "AMOUNT_OUT_OF_RANGE"),
            reason_if(too_many_decimals('unit_price'), "TOO_MANY_DECIMALS"),
            reason_if("updated_at >= " ~ as_of_date() ~ " + 1", "FUTURE_DATE"),
            reason_if("updated_at < date '" ~ var('earliest_date') ~ "'", "DATE_OUT_OF_RANGE"),
            reason_if("deliveries.category is not null and deliveries.category not in (select category from allowed_categories)", "UNKNOWN_CATEGORY"),
            reason_if(any_oversized(['deliveries.product_id', 'product_name', 'deliveries.category', 'brand']), "OVERSIZED_FIELD"),
        ]) }} as reason_codes

    from deliveries

),

ranked as (

    select
        checked.*,
        row_number() over (
            partition by case when cardinality(reason_codes) = 0 then product_key end
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
        product_key as product_id,
        product_name,
        category,
        brand,
        unit_price,
        updated_at

    from ranked

)

select * from final
