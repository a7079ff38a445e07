{#- The bounds a row must meet to be classified valid, derived from the types of the
    silver columns it is stored in and of the gold aggregates built from it (one source of
    truth: the vars below and these macros). A row within them is storable and passes
    every downstream test; a row outside gets one reason code per broken rule.

    | reason code              | rule                                                         |
    |--------------------------|--------------------------------------------------------------|
    | MALFORMED_JSON           | the record is not a JSON object                              |
    | MISSING_FIELD            | a required field is absent or null                           |
    | INVALID_TYPE             | wrong JSON type (a text field that is an object, array,      |
    |                          | number or boolean) or a value that does not cast (amount     |
    |                          | "abc", date "2024-02-30", timestamp "24:00" or "yesterday")  |
    | BLANK_FIELD              | a required text field is empty or only whitespace            |
    | INVALID_CHARACTERS       | an id or code contains control characters                    |
    | OVERSIZED_FIELD          | a text field is longer than var max_text_length              |
    | NON_POSITIVE_AMOUNT      | an amount or price is 0 or negative                          |
    | AMOUNT_OUT_OF_RANGE      | an amount or price does not fit its column (numeric(14,2)    |
    |                          | amounts, numeric(12,2) prices)                               |
    | TOO_MANY_DECIMALS        | an amount or price has more than 2 decimals (0.004, 1e-320)  |
    | NON_INTEGER_QUANTITY     | quantity is not a whole number                               |
    | QUANTITY_OUT_OF_RANGE    | quantity is below 1 or above var max_quantity                |
    | FUTURE_DATE              | a date or version timestamp after the as-of date             |
    | DATE_OUT_OF_RANGE        | a date before var earliest_date                              |
    | TIMESTAMP_DATE_MISMATCH  | transaction_ts falls on another day than transaction_date    |
    | UNKNOWN_CATEGORY         | the category is not in the allowed list                      |

    Ids are normalised before they are compared or stored: surrounding whitespace is
    removed and letters are upper-cased, so "tx-1 " is a re-delivery of "TX-1". -#}

{#- Largest values the silver columns hold (numeric(14,2) amounts, numeric(12,2) prices). -#}
{% macro max_amount() -%} 999999999999.99 {%- endmacro %}
{% macro max_price() -%} 9999999999.99 {%- endmacro %}

{#- The JSON field is present but is not a string (an object, array, number or boolean). -#}
{% macro is_not_text(json_field) -%}
    (jsonb_typeof(payload -> '{{ json_field }}') not in ('string', 'null'))
{%- endmacro %}

{#- Any of the given JSON fields is present and not a string. -#}
{% macro any_not_text(json_fields) -%}
    ({% for field in json_fields %}{{ is_not_text(field) }}{% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}

{#- Any of the given text columns is present but empty or whitespace only (including
    no-break and ideographic spaces). -#}
{% macro any_blank(columns) -%}
    ({% for column in columns %}{{ column }} ~ '^[[:space:]\u00a0\u2000-\u200b\u3000\ufeff]*$'{% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}

{#- Any of the given text columns contains a control character. -#}
{% macro any_control_characters(columns) -%}
    ({% for column in columns %}{{ column }} ~ '[\u0001-\u001f\u007f-\u009f]'{% if not loop.last %} or {% endif %}{% endfor %})
{%- endmacro %}

{#- An id as compared and stored: surrounding whitespace removed, upper case, cut to
    var max_text_length (only an oversized id, which is quarantined, is ever cut: the
    classification index must hold every row). -#}
{% macro normalized_id(column) -%}
    left(upper(btrim({{ column }}, E' \t\r\n\u00a0')), {{ var('max_text_length') }})
{%- endmacro %}

{#- A money value (amount or price) is too large for its column. -#}
{% macro out_of_range(column, max_value) -%}
    ({{ column }} > {{ max_value }})
{%- endmacro %}

{#- A money value has more than 2 decimals (it would round to another amount, perhaps 0.00). -#}
{% macro too_many_decimals(column) -%}
    ({{ column }} <> round({{ column }}, 2))
{%- endmacro %}

{#- A date before the earliest plausible one. -#}
{% macro too_old(column) -%}
    ({{ column }} < date '{{ var("earliest_date") }}')
{%- endmacro %}
