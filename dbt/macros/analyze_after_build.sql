{#- Fresh statistics after a table is (re)built, so the planner and the catalog's row
    counts (pg_class.reltuples) see the new data at once.

    A table materialization (small inputs, rebuilt each run) is analysed in full. An
    incremental model, whether its table was just created (the first build, a
    --full-refresh) or had rows added, has only the columns of its indexes analysed: that
    sets the row count and the statistics of the columns the incremental predicates and
    the later models' joins look up (watermarks, ids, dates), without sampling every wide
    column (a full ANALYZE of bronze's parsed payloads took 3 s at 100k rows after an
    incremental run of 1,000; after a full build, 0.62 of the 3.0 s of bronze.transactions,
    on the full run's critical path). The other columns' statistics are left to
    autovacuum's analyze, which runs within a minute of a new table and then once a tenth
    of the table has changed. -#}
{% macro analyze_relation() -%}
    {%- set materialized = config.get('materialized') -%}
    {%- if materialized == 'table' -%}
        analyze {{ this }}
    {%- elif materialized == 'incremental' -%}
        {%- set columns = [] -%}
        {%- for index in config.get('indexes') or [] -%}
            {#- Plain columns only: ANALYZE takes no expressions. -#}
            {%- for column in index['columns'] if column not in columns and '(' not in column -%}
                {%- do columns.append(column) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if columns -%}
        analyze {{ this }} ({{ columns | join(', ') }})
        {%- else -%}
        analyze {{ this }}
        {%- endif -%}
    {#- Anything else (a view): no statement; dbt skips an empty hook. -#}
    {%- endif -%}
{%- endmacro %}

{#- No JIT compilation in an incremental run. The run handles the new rows only, but the
    planner's estimates of its small inputs (a generate_series, a seed, a watermark) can
    exceed jit_above_cost, and compiling the plan then cost more than running it: 4.7 s
    of a 5 s gold_monthly_summary run that changed no row (100k history). `set local`
    ends with the model's transaction; full builds keep the server's setting. -#}
{% macro no_jit_when_incremental() -%}
    {%- if config.get('materialized') == 'incremental' and is_incremental() -%}
        set local jit = off
    {#- Otherwise no statement: dbt skips an empty hook (a `select 1` cost a round trip per model). -#}
    {%- endif -%}
{%- endmacro %}
