{#- dbt's persist_docs (default__persist_docs with postgres's comment statements), but only
    the comments that differ from the ones the relation has: one query reads them, and
    nothing more runs when the docs did not change (every incremental run of an unchanged
    project), where dbt looked up the columns and re-set every comment on every run: two to
    three statements per model (issue 17). A rebuilt table (a new relation) has no comment
    yet and gets them all; a documented column the relation lacks is warned about as dbt
    does. The catalog reads these comments (test/integration/catalog-seed.test.ts). -#}
{% macro postgres__persist_docs(relation, model, for_relation, for_columns) -%}
  {%- set want_relation = for_relation and config.persist_relation_docs() and model.description -%}
  {%- set want_columns = for_columns and config.persist_column_docs() and model.columns -%}
  {%- if want_relation or want_columns -%}
    {%- set regclass = "'" ~ relation.include(database=False) ~ "'::regclass" -%}
    {%- set current = run_query(
        "select null::text as column_name, pg_catalog.obj_description(" ~ regclass ~ ", 'pg_class') as comment"
        ~ " union all"
        ~ " select a.attname::text, pg_catalog.col_description(a.attrelid, a.attnum)"
        ~ " from pg_catalog.pg_attribute as a"
        ~ " where a.attrelid = " ~ regclass ~ " and a.attnum > 0 and not a.attisdropped"
    ) -%}
    {%- set relation_comment = current.rows[0][1] -%}
    {%- set column_comments = {} -%}
    {%- for row in current.rows[1:] -%}
      {%- do column_comments.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- if want_relation and (relation_comment or '') != model.description -%}
      {%- do statements.append(alter_relation_comment(relation, model.description)) -%}
    {%- endif -%}
    {%- if want_columns -%}
      {%- set existing = column_comments.keys() | list -%}
      {%- set documented = validate_doc_columns(relation, model.columns, existing) -%}
      {%- for column_name in documented -%}
        {%- set quoted = documented[column_name]['quote'] -%}
        {%- set name_in_db = column_name if quoted else column_name | lower -%}
        {%- set description = documented[column_name]['description'] or '' -%}
        {%- if (column_comments.get(name_in_db) or '') != description -%}
          {%- do statements.append(
              'comment on column ' ~ relation ~ '.' ~ (adapter.quote(column_name) if quoted else column_name)
              ~ ' is ' ~ postgres_escape_comment(description) ~ ';'
          ) -%}
        {%- endif -%}
      {%- endfor -%}
    {%- endif -%}
    {%- if statements -%}
      {%- do run_query(statements | join('\n')) -%}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}
