/**
 * Defaults shared by a component and the stack config that feeds it, written once (see
 * components/cloud/defaults.ts). A module without imports.
 */

/** The Prometheus stack's sizing defaults (Monitoring). */
export const MONITORING_DEFAULTS = {
  retentionDays: 15,
  prometheusStorageGi: 20,
  alertmanagerStorageGi: 2,
  storageClass: "do-block-storage",
} as const;
