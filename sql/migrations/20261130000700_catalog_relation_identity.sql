-- catalog relation identity: a relation is (database, schema, name), not (schema, name).
--
-- dbt projects read the same schema and table name from several databases (snowflake's
-- `raw.rms.products` and `analytics.rms.products`); keyed on (schema_name, table_name) the
-- two collapsed into one row and the models reading either lost their lineage. the
-- database is null where the artifacts name none (and for tables registered by hand);
-- nulls are not distinct, so (null, schema, name) stays unique as before.

alter table ip_workbench.tables add column if not exists database_name text;
comment on column ip_workbench.tables.database_name is 'database (catalog) of the relation as dbt names it; null when the artifacts name none';

alter table ip_workbench.tables drop constraint if exists tables_schema_name_table_name_key;

do $$
begin
  if not exists (
    select from pg_catalog.pg_constraint
     where conrelid = 'ip_workbench.tables'::pg_catalog.regclass
       and conname = 'tables_relation_key'
  ) then
    alter table ip_workbench.tables
      add constraint tables_relation_key unique nulls not distinct (database_name, schema_name, table_name);
  end if;
end
$$;
