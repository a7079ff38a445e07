{#- The date rules are evaluated against: var as_of_date when set, else today. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date') -%} date '{{ var("as_of_date") }}' {%- else -%} current_date {%- endif -%}
{%- endmacro %}
