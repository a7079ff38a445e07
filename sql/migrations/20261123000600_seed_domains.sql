-- the four business domains of seed 001 ("seed data (4 domains)"). existing rows, and any
-- description an admin edited since, are left alone.
insert into ip_workbench.domains (name, description)
values
  ('finance', 'expenses, approvals, budgets and tax (bir) reporting'),
  ('scout_retail', 'scout retail transactions, sales and store performance'),
  ('operations', 'operational processes, workflows and service levels'),
  ('platform', 'the workbench itself: pipelines, data quality, llm usage and costs')
on conflict (name) do nothing;
