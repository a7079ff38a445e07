{#- Fails when the newest value of the column (or `field`) is older than `interval`
    `datepart`s, or when the model is empty. -#}
{% test recency(model, datepart, interval, field=none, column_name=none) %}
    {%- set column = field or column_name -%}
    select max({{ column }}) as newest
    from {{ model }}
    having max({{ column }}) is null
        or max({{ column }}) < now() - interval '{{ interval }} {{ datepart }}'
{% endtest %}
