-- the n8n login records expense decisions only through ip_workbench.decide_expense (issue 19,
-- item 1; issue 20, item 4).
--
-- until now decide_expense and release_expense_notification ran with the caller's rights, so
-- 20261130001900 had to give workbench_n8n insert and update on ip_workbench.expense_approvals
-- (with the update policy of 20261130000300: using (true), with check (true)). a leaked n8n
-- credential could then `update ip_workbench.expense_approvals set status = 'approved'` and
-- skip every rule of decide_expense (an approver's decision, immutable once notified, a
-- changed amount re-opening review, null and negative amounts refused).
--
-- now both functions run as their owner (security definer), and the role holds no privilege
-- on the table at all: the workflow never reads it (n8n-workflows/expense-approval.json's
-- postgres nodes read silver.silver_expenses and call the two functions; the notified_at the
-- release needs comes back from decide_expense). the functions' bodies are those of
-- 20261130000900, unchanged: they already have `set search_path = ''` and name every object
-- of ours with its schema (built-ins resolve in pg_catalog, which is searched first). their
-- owner is the migration owner that created them, which is a superuser or has bypassrls
-- (20261123000400), as for ip_workbench.take_notification_slot and ip_workbench.user_exists.
--
-- what a leaked credential can still do through decide_expense: record a first decision for
-- an expense id with the amount, converted amount and threshold it passes (the workflow
-- computes them from silver and stack config), so it can auto-approve an expense nobody has
-- decided on yet. it cannot change a pending, approved or rejected decision: the same amount
-- leaves it as it is, another amount re-opens review. see sql/README.md, "Automation logins".

alter function ip_workbench.decide_expense(text, numeric, text, numeric, numeric, text) security definer;
alter function ip_workbench.release_expense_notification(text, timestamptz) security definer;

revoke all on function ip_workbench.decide_expense(text, numeric, text, numeric, numeric, text) from public, anon, authenticated;
revoke all on function ip_workbench.release_expense_notification(text, timestamptz) from public, anon, authenticated;
grant execute on function ip_workbench.decide_expense(text, numeric, text, numeric, numeric, text) to workbench_n8n, service_role;
grant execute on function ip_workbench.release_expense_notification(text, timestamptz) to workbench_n8n, service_role;

-- the table: nothing for n8n (20261130001900 granted select and the decision's columns;
-- 20261130000300 the whole table and the three policies dropped below).
revoke all on ip_workbench.expense_approvals from workbench_n8n;
do $$
declare
  v_column text;
begin
  -- column grants survive a table-level revoke: take back each one 20261130001900 gave.
  for v_column in
    select a.attname::text from pg_catalog.pg_attribute as a
    where a.attrelid = 'ip_workbench.expense_approvals'::regclass and a.attnum > 0 and not a.attisdropped
  loop
    execute pg_catalog.format(
      'revoke select (%1$I), insert (%1$I), update (%1$I) on ip_workbench.expense_approvals from workbench_n8n', v_column);
  end loop;
end
$$;
drop policy if exists "workbench_n8n: select" on ip_workbench.expense_approvals;
drop policy if exists "workbench_n8n: insert" on ip_workbench.expense_approvals;
drop policy if exists "workbench_n8n: update" on ip_workbench.expense_approvals;

-- n8n's create on the database (20261130001900) stays. n8n 2.40.7's postgres driver
-- (@n8n/typeorm, PostgresDriver.afterConnect) runs `create schema if not exists "<schema>"`
-- whenever DB_POSTGRESDB_SCHEMA is set and is not `public`, and postgresql 15 checks create on
-- the database before it looks for the schema: as a member of the schema's owner, with the
-- schema already there, the statement is still refused (tried with psql on 15.18). with
-- DB_POSTGRESDB_SCHEMA empty, the same driver sets `search_path to public` on its
-- connections (obtainMasterConnection), whatever the login's own search_path, and its first
-- migration creates its table in public (tried with the real n8n: permission denied for
-- schema public). see sql/README.md, "Automation logins".
