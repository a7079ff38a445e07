/**
 * The shape every workbench CronJob shares (the dbt schedules, the backups): UTC, never two
 * runs at once, a bounded history, pods non-root without a service-account token.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { nonRootPod } from "./workload.ts";

type Container = k8s.types.input.core.v1.Container;

export interface CronJobShape {
  /** Cron expression, evaluated in UTC. */
  schedule: string;
  /** Suspended (runs only by hand). Left out when undefined. */
  suspend?: boolean;
  /** How late a missed run may still start, seconds. */
  startingDeadlineSeconds: number;
  /** Retries of a failed run. */
  backoffLimit: number;
  /** Exit codes that fail the Job at once. Default none. */
  podFailurePolicy?: k8s.types.input.batch.v1.PodFailurePolicy;
  /** Longest a run may take, seconds. */
  activeDeadlineSeconds: number;
  /** How long a finished Job is kept, seconds. */
  ttlSecondsAfterFinished: number;
  /** UID the pod runs as. */
  runAsUser: number;
  /** Image pull Secret. Default none. */
  imagePullSecret?: pulumi.Input<string>;
  /** Init containers. Default none. */
  initContainers?: Container[];
  containers: Container[];
  volumes: k8s.types.input.core.v1.Volume[];
}

/** A CronJob's spec from its shape (pure: tests can call it). */
export function cronJobSpec(labels: Record<string, string>, job: CronJobShape) {
  return {
    schedule: job.schedule,
    timeZone: "Etc/UTC",
    ...(job.suspend !== undefined ? { suspend: job.suspend } : {}),
    concurrencyPolicy: "Forbid",
    startingDeadlineSeconds: job.startingDeadlineSeconds,
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 5,
    jobTemplate: {
      metadata: { labels },
      spec: {
        backoffLimit: job.backoffLimit,
        ...(job.podFailurePolicy ? { podFailurePolicy: job.podFailurePolicy } : {}),
        activeDeadlineSeconds: job.activeDeadlineSeconds,
        ttlSecondsAfterFinished: job.ttlSecondsAfterFinished,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: "Never",
            securityContext: nonRootPod(job.runAsUser),
            automountServiceAccountToken: false,
            ...(job.imagePullSecret ? { imagePullSecrets: [{ name: job.imagePullSecret }] } : {}),
            ...(job.initContainers ? { initContainers: job.initContainers } : {}),
            containers: job.containers,
            volumes: job.volumes,
          },
        },
      },
    },
  };
}
