{#- The shapes the silver models share; each model file says what differs (its columns,
    its rules). -#}

{#- The first CTEs of a classification model: `delivered`, the bronze model's rows (only
    those not yet classified when `new_only`); `allowed_categories`, the seed's categories;
    and `checked`, each delivered row with `row_key` (its id normalised: trimmed, upper
    case) and `reason_codes`, one code per broken rule (`rules`: reason_if()s; an empty
    array means the row is valid). Rules name the delivered columns as `delivered.<column>`
    where the seed has a column of that name. -#}
{% macro checked_deliveries(bronze_model, categories_seed, id_column, rules, new_only=true) -%}

delivered as (

    select * from {{ ref(bronze_model) }}
    {% if new_only -%}
    {{ new_rows_only() }}
    {%- endif %}

),

allowed_categories as (

    select category from {{ ref(categories_seed) }}

),

checked as (

    select
        delivered.*,
        {{ normalized_id('delivered.' ~ id_column) }} as row_key,
        {{ reason_codes(rules) }} as reason_codes

    from delivered

)

{%- endmacro %}

{#- The body of an append-only classification model: every new bronze row of
    `bronze_model` checked against `rules` and classified exactly once (classify_rows:
    valid, quarantined or duplicate), stored with its delivery columns, status, reasons,
    its raw text when quarantined, its id under `id_column`, then `columns` (the entity's
    own select expressions, in order) and the time it was classified. -#}
{% macro classification_model(bronze_model, categories_seed, id_column, rules, columns) -%}
with

{{ checked_deliveries(bronze_model, categories_seed, id_column, rules) }},

{{ classify_rows('row_key', id_column) }},

final as (

    select
        {{ delivery_columns() }},
        status,
        reason_codes,
        reason_codes[1] as primary_reason,
        -- The raw text is kept for rejected rows only: what to fix is visible without
        -- going back to bronze, and valid rows do not carry it twice.
        case when status = 'quarantined' then payload_raw end as payload_raw,
        payload_hash,
        row_key as {{ id_column }},
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        now() as classified_at

    from classified

)

select * from final
{%- endmacro %}

{#- The indexes of a classification model: its ingest_id (the watermark), its id, its status. -#}
{% macro classification_indexes(id_column) -%}
    {{ return([
        {'columns': ['ingest_id'], 'unique': True},
        {'columns': [id_column]},
        {'columns': ['status']},
    ]) }}
{%- endmacro %}

{#- The deliveries a classification model gave `status` (quarantined, duplicate): their
    delivery columns, then `columns`. A view: nothing is stored twice. -#}
{% macro deliveries_with_status(classification_model, status, columns) -%}
select
    {{ delivery_columns() }},
    {%- for column in columns %}
    {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}

from {{ ref(classification_model) }}
where status = '{{ status }}'
{%- endmacro %}

{#- The body of an accepted-rows model: the valid rows of `classification_model`, one per
    id (classify_rows lets exactly one per id be valid), the new ones only when built
    incrementally (merged on the id), as `columns` followed by where each came from. -#}
{% macro accepted_rows(classification_model, columns) -%}
with

classifications as (

    select * from {{ ref(classification_model) }}
    where status = 'valid'
    {% if is_incremental() -%}
        and ingest_id > {{ watermark('ingest_id') }}
    {%- endif %}

),

final as (

    select
        {%- for column in columns %}
        {{ column }},
        {%- endfor %}
        ingest_id,
        batch_id,
        received_at

    from classifications

)

select * from final
{%- endmacro %}
