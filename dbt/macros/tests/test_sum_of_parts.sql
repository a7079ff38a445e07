{#- Fails for each row whose `column_name` is not exactly the sum of `parts` (a split that must lose and double-count nothing). -#}
{% test sum_of_parts(model, column_name, parts) %}
    select *
    from {{ model }}
    where {{ column_name }} is distinct from ({{ parts | join(' + ') }})
{% endtest %}
