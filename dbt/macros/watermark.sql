{#- The highest value of `column` in this model's table, as a literal: an incremental
    predicate `ingest_id > <literal>` lets the planner estimate the new rows from the
    index's statistics (a few), where a sub-select is guessed at a third of the table
    and can turn an index lookup per new row into a hash join over the whole history.
    dbt compiles each model just before it runs it, so the value is current. 0 when the
    table is empty or the model is not being built incrementally. -#}
{% macro watermark(column='ingest_id') -%}
    {%- if execute and is_incremental() -%}
        {%- set result = run_query('select coalesce(max(' ~ column ~ '), 0) from ' ~ this) -%}
        {{- result.columns[0].values()[0] | int -}}::bigint
    {%- else -%}
        0::bigint
    {%- endif -%}
{%- endmacro %}
