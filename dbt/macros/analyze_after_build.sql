{#- Fresh statistics after a table is (re)built, so the planner and the catalog's row
    counts (pg_class.reltuples) see the new data at once. -#}
{% macro analyze_relation() -%}
    {%- if config.get('materialized') in ['table', 'incremental'] -%}
        analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
