{#- Relation names: the schema names the layer, so a model's relation does not repeat it.
    Model `gold_monthly_summary` (its node id, file and ref() keep the prefix: dbt needs
    model names unique across the project) builds gold.monthly_summary, `silver_expenses`
    silver.expenses, `bronze_transactions` bronze.transactions (the landing tables are
    bronze.<x>_raw, so nothing collides). An explicit `alias` config still wins; a name
    without its schema's prefix, a seed or a test keeps dbt's default (its name).
    sql/migrations/20261201000100_layer_relation_names.sql renamed the relations that
    earlier versions built, so their history carries over. -#}
{% macro generate_alias_name(custom_alias_name=none, node=none) -%}
    {%- set prefix = (node.config.schema or '') ~ '_' -%}
    {%- if custom_alias_name -%}
        {{ custom_alias_name | trim }}
    {%- elif node.resource_type == 'model' and node.config.schema and node.name.startswith(prefix) -%}
        {{ node.name[prefix | length:] }}
    {%- elif node.version -%}
        {{ node.name ~ '_v' ~ (node.version | replace('.', '_')) }}
    {%- else -%}
        {{ node.name }}
    {%- endif -%}
{%- endmacro %}
