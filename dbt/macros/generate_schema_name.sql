{#- Layers are real schemas (bronze, silver, gold, platinum), not target-prefixed ones:
    users and the catalog find gold.finance_expenses, not silver_gold.finance_expenses. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
