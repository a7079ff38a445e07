-- Warehouse relations are named without their layer prefix (issue 18): the schema already
-- names the layer, so dbt model `gold_monthly_summary` now builds gold.monthly_summary (not
-- gold.gold_monthly_summary), `silver_expenses` silver.expenses, and so on for every model
-- without an explicit alias (dbt/macros/generate_alias_name.sql). Model names, node ids and
-- ref()s keep the prefix.
--
-- Migrations run before dbt, so an existing database is renamed here and the next dbt run
-- finds each incremental model's table under its new name and continues it (its history
-- and watermark kept, no rebuild). A fresh database has none of the old relations: every
-- rename is skipped. A table's grants (also those default privileges gave it), owner,
-- comments, indexes and the views built on it follow it (PostgreSQL tracks them by oid,
-- not by name); no function, view or policy of the migrations names these relations, and
-- the catalog's rows (ip_workbench.tables) are renamed below.
--
-- A relation is renamed as its owner (dbt's login): where the migration runner is not a
-- member of that role (Supabase's `postgres` is not a superuser), it takes the membership
-- for the rename and gives it back. Both names existing at once means something built the
-- new relation before this migration ran: that is refused, naming both, rather than one of
-- them being dropped.

do $$
declare
  renames constant text[][] := array[
    ['bronze', 'bronze_expenses', 'expenses'],
    ['bronze', 'bronze_products', 'products'],
    ['bronze', 'bronze_transactions', 'transactions'],
    ['silver', 'silver_expense_approvals', 'expense_approvals'],
    ['silver', 'silver_expense_classifications', 'expense_classifications'],
    ['silver', 'silver_expense_duplicates', 'expense_duplicates'],
    ['silver', 'silver_expense_quarantine', 'expense_quarantine'],
    ['silver', 'silver_expenses', 'expenses'],
    ['silver', 'silver_product_classifications', 'product_classifications'],
    ['silver', 'silver_products', 'products'],
    ['silver', 'silver_transaction_classifications', 'transaction_classifications'],
    ['silver', 'silver_transaction_duplicates', 'transaction_duplicates'],
    ['silver', 'silver_transaction_quarantine', 'transaction_quarantine'],
    ['silver', 'silver_validated_transactions', 'validated_transactions'],
    ['gold', 'gold_category_trends', 'category_trends'],
    ['gold', 'gold_monthly_summary', 'monthly_summary'],
    ['platinum', 'platinum_basket_items', 'basket_items'],
    ['platinum', 'platinum_product_pair_counts', 'product_pair_counts'],
    ['platinum', 'platinum_product_recommendations', 'product_recommendations'],
    ['platinum', 'platinum_transaction_embeddings', 'transaction_embeddings']
  ];
  layer_name text;
  old_relation text;
  new_relation text;
  kind "char";
  owner name;
  borrowed boolean;
begin
  for i in 1 .. array_length(renames, 1) loop
    layer_name := renames[i][1];
    old_relation := renames[i][2];
    new_relation := renames[i][3];
    select c.relkind, pg_catalog.pg_get_userbyid(c.relowner) into kind, owner
      from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
     where n.nspname = layer_name and c.relname = old_relation;
    if kind is not null then
      if to_regclass(format('%I.%I', layer_name, new_relation)) is not null then
        raise exception 'both %.% and %.% exist: % is the name dbt builds now; drop the relation you do not want and migrate again',
          layer_name, old_relation, layer_name, new_relation, new_relation;
      end if;
      borrowed := not pg_catalog.pg_has_role(current_user, owner, 'USAGE');
      if borrowed then
        execute format('grant %I to %I', owner, current_user);
      end if;
      execute format('alter %s %I.%I rename to %I',
        case kind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
        layer_name, old_relation, new_relation);
      if borrowed then
        execute format('revoke %I from %I', owner, current_user);
      end if;
    end if;
    -- The catalog's row of the model (found by its dbt id, which did not change) takes the
    -- new name now, not at the next catalog seed.
    update ip_workbench.tables as t
       set table_name = new_relation
     where t.schema_name = layer_name
       and t.table_name = old_relation
       and t.dbt_unique_id = 'model.workbench.' || old_relation
       and not exists (
         select from ip_workbench.tables as other
          where other.database_name is not distinct from t.database_name
            and other.schema_name = layer_name and other.table_name = new_relation);
    kind := null;
  end loop;
end
$$;
