/**
 * CronJobs never overlap and never run forever: concurrencyPolicy Forbid and a Job
 * activeDeadlineSeconds (a stuck dbt or backup run would otherwise hold its slot).
 */
import * as k8s from "@pulumi/kubernetes";
import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";

export const cronJobsBounded: ResourceValidationPolicy = {
  name: "cronjobs-bounded",
  description: "CronJobs forbid concurrent runs and set a deadline on each Job.",
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(k8s.batch.v1.CronJob, (cronJob, _args, reportViolation) => {
    const name = String(cronJob.metadata?.name ?? "");
    if (cronJob.spec?.concurrencyPolicy !== "Forbid") {
      reportViolation(`CronJob "${name}" allows overlapping runs: set spec.concurrencyPolicy: Forbid.`);
    }
    if (cronJob.spec?.jobTemplate?.spec?.activeDeadlineSeconds === undefined) {
      reportViolation(`CronJob "${name}" has no deadline: set spec.jobTemplate.spec.activeDeadlineSeconds.`);
    }
  }),
};
