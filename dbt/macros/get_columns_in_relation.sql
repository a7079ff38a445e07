{#- dbt's own postgres__get_columns_in_relation, answered from pg_catalog instead of the
    information_schema.columns view: the same rows (the view's own definition, with its
    helper functions for the lengths and precisions, its relation kinds, its privilege
    filter and without other sessions' temporary tables), but found through the catalog's
    indexes by name, where the view's `table_name = '...'` compares a cast of every
    relation's name. dbt looks up a relation's columns about six times per incremental
    model (schema-change checks, the merge's column list, persist_docs): that made these
    lookups the largest part of an incremental run's own SQL (issue 17).
    test/integration/medallion-columns.test.ts compares the two for every relation the
    medallion builds. -#}
{% macro postgres__get_columns_in_relation(relation) -%}
  {% call statement('get_columns_in_relation', fetch_result=True) %}
      select
          a.attname::text as column_name,
          (case
              when t.typtype = 'd' then
                  case
                      when bt.typelem <> 0 and bt.typlen = -1 then 'ARRAY'
                      when nbt.nspname = 'pg_catalog' then format_type(t.typbasetype, null)
                      else 'USER-DEFINED'
                  end
              else
                  case
                      when t.typelem <> 0 and t.typlen = -1 then 'ARRAY'
                      when nt.nspname = 'pg_catalog' then format_type(a.atttypid, null)
                      else 'USER-DEFINED'
                  end
          end)::text as data_type,
          information_schema._pg_char_max_length(
              information_schema._pg_truetypid(a.*, t.*), information_schema._pg_truetypmod(a.*, t.*)
          )::integer as character_maximum_length,
          information_schema._pg_numeric_precision(
              information_schema._pg_truetypid(a.*, t.*), information_schema._pg_truetypmod(a.*, t.*)
          )::integer as numeric_precision,
          information_schema._pg_numeric_scale(
              information_schema._pg_truetypid(a.*, t.*), information_schema._pg_truetypmod(a.*, t.*)
          )::integer as numeric_scale
      from pg_catalog.pg_class as c
      join pg_catalog.pg_namespace as nc on nc.oid = c.relnamespace
      join pg_catalog.pg_attribute as a on a.attrelid = c.oid
      join pg_catalog.pg_type as t on t.oid = a.atttypid
      join pg_catalog.pg_namespace as nt on nt.oid = t.typnamespace
      left join (
          pg_catalog.pg_type as bt join pg_catalog.pg_namespace as nbt on nbt.oid = bt.typnamespace
      ) on t.typtype = 'd' and t.typbasetype = bt.oid
      where c.relname = '{{ relation.identifier }}'
        {% if relation.schema %}
        and nc.nspname = '{{ relation.schema }}'
        {% endif %}
        and c.relkind in ('r', 'v', 'f', 'p')
        and not pg_catalog.pg_is_other_temp_schema(nc.oid)
        and a.attnum > 0
        and not a.attisdropped
        and (
            pg_catalog.pg_has_role(c.relowner, 'USAGE')
            or pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT, INSERT, UPDATE, REFERENCES')
        )
      order by a.attnum
  {% endcall %}
  {% set table = load_result('get_columns_in_relation').table %}
  {{ return(sql_convert_columns_in_relation(table)) }}
{% endmacro %}
