{#- The first CTEs of every bronze model: the landing table's new records (past the
    highest ingest_id already built), each parsed once, with `payload` the parsed JSON
    when it is an object and null otherwise (text that does not parse, or an array or a
    number, is equally unusable). Emits CTEs `landing`, `parsed` and `objects`. -#}
{% macro parsed_deliveries(landing_table) -%}

landing as (

    select * from {{ source('landing', landing_table) }}
    {{ new_rows_only() }}

),

parsed as (

    -- `offset 0` keeps the planner from inlining the parse into every expression that
    -- uses it: PostgreSQL does not share common subexpressions, so each field would
    -- parse the whole payload again.
    select
        landing.*,
        bronze.sha256_hex(landing.payload_raw) as payload_hash,
        parse.parsed

    from landing
    cross join lateral (select bronze.try_parse_jsonb(landing.payload_raw) as parsed offset 0) as parse

),

objects as (

    select
        parsed.*,
        case when jsonb_typeof(parsed) = 'object' then parsed end as payload

    from parsed

)

{%- endmacro %}
