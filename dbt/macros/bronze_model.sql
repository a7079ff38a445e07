{#- The body of a bronze model: the landing table's new records, each parsed once
    (parsed_deliveries), with their delivery columns, the payload's fields as text, and
    typed copies of the fields that must cast. Never fails: a value that does not cast
    becomes null beside its raw text, and silver turns the gaps into reason codes.

    - text_fields:  payload keys kept as text, each under its own name;
    - typed_fields: (key, type) or (key, type, column): the text is kept as `<key>_raw`
                    and cast by bronze.try_<type> (numeric, date, timestamptz) into
                    `column` (default: the key).

    The model file keeps its config (incremental, append by ingest_id). -#}
{% macro bronze_model(landing_table, text_fields, typed_fields) -%}
with

{{ parsed_deliveries(landing_table) }},

fields as (

    select
        {{ delivery_columns() }},
        payload_raw,
        payload_hash,
        payload,
        {%- for key in text_fields %}
        payload ->> '{{ key }}' as {{ key }},
        {%- endfor %}
        {%- for field in typed_fields %}
        payload ->> '{{ field[0] }}' as {{ field[0] }}_raw{{ ',' if not loop.last }}
        {%- endfor %}

    from objects

),

final as (

    select
        *,
        {%- for field in typed_fields %}
        bronze.try_{{ field[1] }}({{ field[0] }}_raw) as {{ field[2] if field | length > 2 else field[0] }}{{ ',' if not loop.last }}
        {%- endfor %}

    from fields

)

select * from final
{%- endmacro %}

{#- How a record was delivered, as every bronze and silver row of a delivery carries it:
    its arrival id (the incremental watermark), who sent it, its batch and place in the
    batch, and when it arrived. -#}
{% macro delivery_columns() -%}
    ingest_id, source, batch_id, record_seq, received_at
{%- endmacro %}
