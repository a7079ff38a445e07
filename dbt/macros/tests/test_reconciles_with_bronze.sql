{#- The accounting identity of a classification model: every bronze row of `landing`
    is classified exactly once, and the classified statuses add up to the bronze count.
    Fails with the counts when they do not. -#}
{% test reconciles_with_bronze(model, landing) %}
    with

    bronze as (

        select count(*) as bronze_rows from {{ landing }}

    ),

    classified as (

        select
            count(*) as classified_rows,
            count(distinct ingest_id) as distinct_ingest_ids

        from {{ model }}

    )

    select *
    from bronze
    cross join classified
    where bronze_rows <> classified_rows
        or classified_rows <> distinct_ingest_ids
{% endtest %}
