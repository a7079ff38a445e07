-- the catalog writer also records the deployment's dbt stage runs (issue 19, item 1).
--
-- the stage runner (components/data/dbt-stage-provider.ts) inserts a `running` job run and
-- finishes it (`update ... set status, completed_at, invocation_id, rows_processed,
-- error_message`) as the catalog login, which 20261130000300 let insert and read job runs
-- but not update. it may update only the scheduled runs it can insert (no user behind
-- them), never a run a person or n8n started, and never turn one into such a run.

grant update (status, completed_at, invocation_id, rows_processed, error_message)
  on ip_workbench.job_runs to workbench_catalog_writer;

drop policy if exists "workbench_catalog_writer: update" on ip_workbench.job_runs;
create policy "workbench_catalog_writer: update" on ip_workbench.job_runs
  for update to workbench_catalog_writer
  using (triggered_by is null and stage is distinct from 'n8n')
  with check (triggered_by is null and stage is distinct from 'n8n');
