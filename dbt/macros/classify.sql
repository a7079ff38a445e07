{#- The shared tail of the incremental classification models: given a CTE `checked`
    (new bronze rows with reason_codes), decide each row's status.

    - quarantined: at least one rule broken (reason_codes not empty);
    - duplicate:   valid, but its id was already accepted (earlier in this batch of new
                   rows, or in an earlier run);
    - valid:       everything else; exactly one valid row per id, the first delivered.

    `id_column` is the normalised id of `checked`; `stored_id_column` the column it is
    stored under in this model (default: the same name).

    Every bronze row gets exactly one status, which is what lets the counts reconcile:
    bronze = valid + quarantined + duplicate. -#}
{% macro classify_rows(id_column, stored_id_column=none) -%}
{%- set stored_id_column = stored_id_column or id_column -%}

ranked as (

    select
        checked.*,
        row_number() over (
            partition by case when cardinality(reason_codes) = 0 then {{ id_column }} end
            order by ingest_id
        ) as delivery_rank

    from checked

),

classified as (

    select
        ranked.*,
        case
            when cardinality(reason_codes) > 0 then 'quarantined'
            when delivery_rank > 1 then 'duplicate'
            {% if is_incremental() -%}
            when exists (
                select 1 from {{ this }} as accepted
                where accepted.status = 'valid'
                    and accepted.{{ stored_id_column }} = ranked.{{ id_column }}
            ) then 'duplicate'
            {%- endif %}
            else 'valid'
        end as status

    from ranked

)

{%- endmacro %}

{#- Rows not yet classified: bronze rows past the highest ingest_id already seen. -#}
{% macro new_rows_only() -%}
    {% if is_incremental() -%}
    where ingest_id > {{ watermark('ingest_id') }}
    {%- endif %}
{%- endmacro %}
