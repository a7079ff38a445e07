{#- Reason codes for rejected bronze rows: one per broken rule. The silver models
    collect them into reason_codes (text[]); an empty array means the row is valid. -#}

{% macro reason_if(condition, code) -%}
    case when {{ condition }} then '{{ code }}' end
{%- endmacro %}

{#- A required JSON field is absent or null. -#}
{% macro is_missing(json_field) -%}
    (payload -> '{{ json_field }}' is null or jsonb_typeof(payload -> '{{ json_field }}') = 'null')
{%- endmacro %}

{#- Present but not castable: raw text exists and the typed value is null. -#}
{% macro is_untyped(raw_column, typed_column) -%}
    ({{ raw_column }} is not null and {{ typed_column }} is null)
{%- endmacro %}

{#- Any of the given text columns is longer than var max_text_length. -#}
{% macro any_oversized(columns) -%}
    ({% for column in columns %}coalesce(length({{ column }}), 0) > {{ var('max_text_length') }}{% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}

{#- Collects non-null reason codes into a text[]. -#}
{% macro reason_codes(reasons) -%}
    array_remove(array[{% for reason in reasons %}{{ reason }}{% if not loop.last %}, {% endif %}{% endfor %}]::text[], null)
{%- endmacro %}
