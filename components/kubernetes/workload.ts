/**
 * Small pure helpers shared by the Kubernetes components: hardened security contexts,
 * resource budgets, labels, secret-backed env vars and the Traefik ingress annotations.
 */
import type * as pulumi from "@pulumi/pulumi";

/** IngressClass the Traefik release installs (helm-values/traefik.yaml). */
export const TRAEFIK_INGRESS_CLASS = "traefik";
/** cert-manager ClusterIssuer backed by Let's Encrypt (components/kubernetes/cert-manager.ts). */
export const LETSENCRYPT_RESOLVER = "letsencrypt";

/** CPU and memory requests and limits for one container. */
export interface ResourceBudget {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

/** Container-level hardening: no root, no privilege escalation, no capabilities, read-only root. */
export function hardenedContainer(readOnlyRootFilesystem = true) {
  return {
    runAsNonRoot: true,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem,
    capabilities: { drop: ["ALL"] },
  };
}

/** Pod-level security context running every container as `uid` (non-root). */
export function nonRootPod(uid: number) {
  if (!Number.isInteger(uid) || uid <= 0)
    throw new Error(`pod uid must be a positive integer (non-root), got ${uid}`);
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Recommended labels (app.kubernetes.io/*) for one workload. */
export function appLabels(name: string, component?: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": name,
    ...(component ? { "app.kubernetes.io/component": component } : {}),
    "app.kubernetes.io/part-of": "ai-workbench",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** The subset of {@link appLabels} used as a selector (stable across label additions). */
export function selectorLabels(name: string): Record<string, string> {
  return { "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "ai-workbench" };
}

/** An env var read from a Secret key: the value never appears in the spec. */
export function secretEnv(name: string, secretName: pulumi.Input<string>, key: string = name) {
  return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
}

/**
 * Annotations routing an Ingress through Traefik's websecure entry point with TLS. The
 * certificate is cert-manager's, served from Traefik's default TLS store
 * (components/kubernetes/cert-manager.ts), so no per-Ingress resolver is named.
 */
export function traefikTlsAnnotations(): Record<string, string> {
  return {
    "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
    "traefik.ingress.kubernetes.io/router.tls": "true",
  };
}

/** Prometheus scrape annotations for a pod template. */
export function prometheusAnnotations(port: number, path = "/metrics"): Record<string, string> {
  return { "prometheus.io/scrape": "true", "prometheus.io/port": String(port), "prometheus.io/path": path };
}

/** Env var names that carry credentials and so must come from a Secret, never a literal value. */
export const CREDENTIAL_NAME =
  /(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|PRIVATE_KEY|ENCRYPTION_KEY|MASTER_KEY|ACCESS_KEY|DATABASE_URL|WEBHOOK_URL|CREDENTIALS|DSN)/i;

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export function isDnsLabel(value: string): boolean {
  return DNS_LABEL.test(value);
}

/** A five-field cron expression (minute hour day-of-month month day-of-week). */
export function isCronExpression(value: string): boolean {
  const fields = value.trim().split(/\s+/);
  return fields.length === 5 && fields.every((field) => /^[0-9*/,\-A-Za-z?]+$/.test(field));
}
