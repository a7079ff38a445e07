/**
 * The cluster services of issue 16: cert-manager with its ClusterIssuer and the served
 * certificate (item 5), metrics-server for the HPAs (item 6), the Prometheus stack with
 * the workbench's alert rules (item 7), and the NetworkPolicies (item 10). There is no
 * chart download here: the Helm releases are checked through the values they are given.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FAKE_KUBECONFIG,
  installMocks,
  isSecretInput,
  promiseOf,
  providerUrn,
  type RecordedResource,
} from "../../helpers/pulumi-mocks.ts";

const mocks = await installMocks();
const { CertManager } = await import("../../../components/kubernetes/cert-manager.ts");
const { MetricsServer } = await import("../../../components/kubernetes/metrics-server.ts");
const { Monitoring, ANNOTATED_PODS_SCRAPE } = await import("../../../components/kubernetes/monitoring.ts");
const { NetworkPolicies, networkPolicyPlan } =
  await import("../../../components/kubernetes/network-policies.ts");

let provider: k8s.Provider;
let providerRef: string;
beforeAll(async () => {
  provider = new k8s.Provider("cluster-k8s", { kubeconfig: pulumi.secret(FAKE_KUBECONFIG) });
  providerRef = await promiseOf(provider.urn);
});

const spread = (name: string, instance: string) => [
  {
    maxSkew: 1,
    topologyKey: "kubernetes.io/hostname",
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: {
      matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": instance },
    },
  },
];

describe("CertManager", () => {
  let release: RecordedResource;
  let issuer: RecordedResource;
  let certificate: RecordedResource;

  beforeAll(async () => {
    new CertManager("cert-manager", {
      provider,
      namespace: "cert-manager",
      chartVersion: "v1.19.1",
      acmeEmail: "ops@example.com",
      certificate: { namespace: "traefik", dnsNames: ["workbench.example.com", "api.workbench.example.com"] },
    });
    await mocks.settle();
    release = mocks.one("kubernetes:helm.sh/v3:Release", "cert-manager");
    issuer = mocks.one("kubernetes:cert-manager.io/v1:ClusterIssuer");
    certificate = mocks.one("kubernetes:cert-manager.io/v1:Certificate");
  });

  it("installs the jetstack chart with its CRDs, two replicas of each controller spread over nodes", () => {
    expect(release.inputs).toMatchObject({
      chart: "cert-manager",
      version: "v1.19.1",
      repositoryOpts: { repo: "https://charts.jetstack.io" },
      namespace: "cert-manager",
      atomic: true,
    });
    const values = release.inputs["values"];
    expect(values.crds).toEqual({ enabled: true, keep: true });
    for (const [component, name] of [
      [values, "cert-manager"],
      [values.webhook, "webhook"],
      [values.cainjector, "cainjector"],
    ] as const) {
      expect(component.replicaCount, name).toBe(2);
      expect(component.podDisruptionBudget, name).toEqual({ enabled: true, minAvailable: 1 });
      expect(component.topologySpreadConstraints, name).toEqual(spread(name, "cert-manager"));
      expect(component.resources.limits, name).toEqual({ cpu: "200m", memory: "256Mi" });
    }
    expect(providerUrn(release.provider)).toBe(providerRef);
  });

  it("creates a Let's Encrypt ClusterIssuer (HTTP-01 through Traefik) from config, after the chart's CRDs", () => {
    expect(issuer.inputs).toEqual({
      apiVersion: "cert-manager.io/v1",
      kind: "ClusterIssuer",
      metadata: { name: "letsencrypt" },
      spec: {
        acme: {
          server: "https://acme-v02.api.letsencrypt.org/directory",
          email: "ops@example.com",
          privateKeySecretRef: { name: "letsencrypt-account-key" },
          solvers: [{ http01: { ingress: { ingressClassName: "traefik" } } }],
        },
      },
    });
    expect(issuer.dependencies).toContain(release.urn);
  });

  it("stores one certificate for the hosts in a Secret in Traefik's namespace", () => {
    expect(certificate.inputs["metadata"]).toEqual({ name: "workbench-tls", namespace: "traefik" });
    expect(certificate.inputs["spec"]).toEqual({
      secretName: "workbench-tls",
      dnsNames: ["workbench.example.com", "api.workbench.example.com"],
      issuerRef: { kind: "ClusterIssuer", name: "letsencrypt" },
      privateKey: { algorithm: "ECDSA", size: 256, rotationPolicy: "Always" },
    });
    expect(certificate.dependencies).toContain(issuer.urn);
  });

  it("uses Let's Encrypt's staging CA when configured", async () => {
    new CertManager("cm-staging", {
      provider,
      namespace: "cert-manager",
      chartVersion: "v1.19.1",
      acmeServer: "staging",
      issuerName: "letsencrypt-staging",
      certificate: { namespace: "traefik", dnsNames: ["a.example.com"] },
    });
    await mocks.settle();
    const staging = mocks.one("kubernetes:cert-manager.io/v1:ClusterIssuer", "cm-staging-issuer").inputs;
    expect(staging["spec"]["acme"]["server"]).toBe("https://acme-staging-v02.api.letsencrypt.org/directory");
    expect(staging["spec"]["acme"]).not.toHaveProperty("email");
  });

  it.each([
    [{ dnsNames: [] }, "c1: certificate.dnsNames is empty"],
    [
      { dnsNames: ["*.example.com"] },
      "c1: *.example.com is a wildcard, which HTTP-01 cannot validate: list each host",
    ],
  ])("refuses %j", (certificateArgs, message) => {
    expect(
      () =>
        new CertManager("c1", {
          provider,
          namespace: "cert-manager",
          chartVersion: "v1.19.1",
          certificate: { namespace: "traefik", ...certificateArgs },
        }),
    ).toThrow(message);
    expect(
      () =>
        new CertManager("c2", {
          provider,
          namespace: "cert-manager",
          chartVersion: "v1.19.1",
          acmeEmail: "ops",
          certificate: { namespace: "traefik", dnsNames: ["a.example.com"] },
        }),
    ).toThrow("c2: acmeEmail 'ops' is not an email address");
  });
});

describe("MetricsServer", () => {
  it("installs metrics-server in kube-system: 2 replicas, a PDB, spread over nodes, sized", async () => {
    new MetricsServer("metrics-server", { provider, chartVersion: "3.13.0" });
    await mocks.settle();
    const release = mocks.one("kubernetes:helm.sh/v3:Release", "metrics-server");
    expect(release.inputs).toMatchObject({
      chart: "metrics-server",
      version: "3.13.0",
      repositoryOpts: { repo: "https://kubernetes-sigs.github.io/metrics-server/" },
      namespace: "kube-system",
    });
    const values = release.inputs["values"];
    expect(values.replicas).toBe(2);
    expect(values.podDisruptionBudget).toEqual({ enabled: true, minAvailable: 1 });
    expect(values.topologySpreadConstraints).toEqual(spread("metrics-server", "metrics-server"));
    expect(values.defaultArgs).toContain("--kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname");
    expect(values.defaultArgs).toContain("--metric-resolution=15s");
    expect(values.resources).toEqual({
      requests: { cpu: "100m", memory: "200Mi" },
      limits: { cpu: "500m", memory: "400Mi" },
    });
    expect(providerUrn(release.provider)).toBe(providerRef);
    expect(() => new MetricsServer("m2", { provider, chartVersion: "3.13.0", replicas: 0 })).toThrow(
      "m2: replicas must be a whole number of at least 1 (got 0)",
    );
  });
});

describe("Monitoring", () => {
  let release: RecordedResource;
  let rule: RecordedResource;

  beforeAll(async () => {
    new Monitoring("monitoring", {
      provider,
      namespace: "monitoring",
      chartVersion: "79.2.0",
      alerts: {
        namespaces: ["ai-workbench", "n8n", "litellm", "traefik"],
        jobsNamespace: "ai-workbench",
        backupCronJobs: ["postgres-backup-hourly", "postgres-backup-daily"],
        dbtCronJobs: ["dbt-ingest", "dbt-transform", "dbt-backfill"],
        dataQualityCronJob: "dbt-data-quality",
      },
    });
    await mocks.settle();
    release = mocks.one("kubernetes:helm.sh/v3:Release", "monitoring");
    rule = mocks.one("kubernetes:monitoring.coreos.com/v1:PrometheusRule");
  });

  it("installs kube-prometheus-stack sized for a 3-6 node cluster, with volumes and retention", () => {
    expect(release.inputs).toMatchObject({
      chart: "kube-prometheus-stack",
      version: "79.2.0",
      repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" },
      namespace: "monitoring",
    });
    const spec = release.inputs["values"].prometheus.prometheusSpec;
    expect(spec).toMatchObject({
      replicas: 1,
      retention: "15d",
      retentionSize: "17GB",
      resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { cpu: "2", memory: "4Gi" } },
    });
    expect(spec.storageSpec.volumeClaimTemplate.spec).toEqual({
      storageClassName: "do-block-storage",
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "20Gi" } },
    });
    const alertmanager = release.inputs["values"].alertmanager.alertmanagerSpec;
    expect(alertmanager.storage.volumeClaimTemplate.spec.resources).toEqual({ requests: { storage: "2Gi" } });
    // DigitalOcean runs the control plane: nothing there to scrape.
    for (const part of ["kubeControllerManager", "kubeScheduler", "kubeEtcd", "kubeProxy"])
      expect(release.inputs["values"][part], part).toEqual({ enabled: false });
  });

  it("picks up every ServiceMonitor and rule, and scrapes annotated pods (Traefik, n8n, LiteLLM)", () => {
    const spec = release.inputs["values"].prometheus.prometheusSpec;
    expect(spec.serviceMonitorSelectorNilUsesHelmValues).toBe(false);
    expect(spec.podMonitorSelectorNilUsesHelmValues).toBe(false);
    expect(spec.ruleSelectorNilUsesHelmValues).toBe(false);
    expect(spec.additionalScrapeConfigs).toEqual([ANNOTATED_PODS_SCRAPE]);
    expect(ANNOTATED_PODS_SCRAPE.relabel_configs[0]).toEqual({
      source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
      action: "keep",
      regex: "true",
    });
  });

  it("gives Grafana a generated admin password from a Secret (not the chart's public default)", () => {
    const grafana = release.inputs["values"].grafana;
    expect(grafana.admin).toEqual({
      existingSecret: "monitoring-grafana-admin",
      userKey: "admin-user",
      passwordKey: "admin-password",
    });
    expect(grafana).not.toHaveProperty("adminPassword");
    const secret = mocks.one("kubernetes:core/v1:Secret", "monitoring-grafana-admin");
    expect(isSecretInput(secret.rawInputs["stringData"])).toBe(true);
    expect(secret.inputs["stringData"]).toEqual({
      "admin-user": "admin",
      "admin-password": "mock-password-monitoring-grafana-admin",
    });
  });

  it("raises the alerts: crash loop, backup failed or missing > 26 h, dbt job failed, DQ below 80 %", () => {
    expect(rule.dependencies).toContain(release.urn);
    const groups = rule.inputs["spec"]["groups"];
    expect(groups).toHaveLength(1);
    const rules = groups[0].rules as { alert: string; expr: string; for: string; labels: object }[];
    expect(rules.map((entry) => [entry.alert, entry.for, entry.labels])).toEqual([
      ["WorkbenchPodCrashLooping", "10m", { severity: "critical" }],
      ["WorkbenchBackupFailed", "0m", { severity: "critical" }],
      ["WorkbenchBackupMissing", "15m", { severity: "critical" }],
      ["WorkbenchDbtJobFailed", "0m", { severity: "warning" }],
      ["WorkbenchDataQualityBelowThreshold", "0m", { severity: "warning" }],
    ]);
    const expr = Object.fromEntries(rules.map((entry) => [entry.alert, entry.expr]));
    expect(expr["WorkbenchPodCrashLooping"]).toBe(
      'max by (namespace, pod, container) (max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", namespace=~"ai-workbench|n8n|litellm|traefik"}[5m])) >= 1',
    );
    expect(expr["WorkbenchBackupFailed"]).toContain(
      'kube_job_status_failed{namespace="ai-workbench", job_name=~"(postgres-backup-hourly|postgres-backup-daily)-[0-9]+"}',
    );
    expect(expr["WorkbenchBackupMissing"]).toContain(
      'time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{namespace="ai-workbench", cronjob=~"postgres-backup-hourly|postgres-backup-daily"}) > 93600',
    );
    expect(expr["WorkbenchDbtJobFailed"]).toContain(
      'job_name=~"(dbt-ingest|dbt-transform|dbt-backfill)-[0-9]+"',
    );
    expect(expr["WorkbenchDataQualityBelowThreshold"]).toContain('job_name=~"(dbt-data-quality)-[0-9]+"');
  });
});

describe("NetworkPolicies", () => {
  const input = {
    namespaces: ["ai-workbench", "litellm", "traefik", "monitoring", "qdrant"],
    ingressNamespace: "traefik",
    monitoringNamespace: "monitoring",
    internetEgress: ["ai-workbench", "litellm"],
    apiServerWebhooks: ["monitoring"],
    flows: [{ from: "ai-workbench", to: "litellm", ports: [4000] }],
  };
  const byNamespace = (namespace: string) =>
    Object.fromEntries(
      networkPolicyPlan(input)
        .filter((plan) => plan.namespace === namespace)
        .map((plan) => [plan.name, plan.spec]),
    );
  const ns = (name: string) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": name } },
  });

  it("denies all ingress and egress in every namespace by default, then allows DNS", () => {
    for (const namespace of input.namespaces) {
      const policies = byNamespace(namespace);
      expect(policies["default-deny"], namespace).toEqual({
        podSelector: {},
        policyTypes: ["Ingress", "Egress"],
      });
      expect(policies["allow-dns"]?.["egress"], namespace).toEqual([
        {
          to: [ns("kube-system")],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ]);
    }
    // A namespace nothing runs in yet gets nothing beyond the baseline.
    expect(Object.keys(byNamespace("qdrant")).sort()).toEqual([
      "allow-dns",
      "allow-from-ingress",
      "allow-monitoring-scrape",
      "allow-same-namespace",
      "default-deny",
    ]);
  });

  it("lets Traefik in from the load balancer and on to the backends; backends accept Traefik", () => {
    expect(byNamespace("traefik")["allow-load-balancer"]).toEqual({
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [{}],
    });
    expect(byNamespace("traefik")["allow-to-backends"]?.["egress"]).toEqual([
      { to: input.namespaces.map(ns) },
    ]);
    expect(byNamespace("litellm")["allow-from-ingress"]?.["ingress"]).toEqual([{ from: [ns("traefik")] }]);
  });

  it("lets the workbench call the gateway on 4000 only, and reach the internet on 443/5432/6543 only", () => {
    expect(byNamespace("ai-workbench")["allow-to-namespaces"]?.["egress"]).toEqual([
      { to: [ns("litellm")], ports: [{ protocol: "TCP", port: 4000 }] },
    ]);
    expect(byNamespace("litellm")["allow-from-namespaces"]?.["ingress"]).toEqual([
      { from: [ns("ai-workbench")], ports: [{ protocol: "TCP", port: 4000 }] },
    ]);
    expect(byNamespace("ai-workbench")["allow-internet-egress"]?.["egress"]).toEqual([
      {
        to: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
        ports: [
          { protocol: "TCP", port: 443 },
          { protocol: "TCP", port: 5432 },
          { protocol: "TCP", port: 6543 },
        ],
      },
    ]);
    expect(byNamespace("qdrant")).not.toHaveProperty("allow-internet-egress");
    const withHttp = networkPolicyPlan({ ...input, extraEgressPorts: { litellm: [80] } }).find(
      (plan) => plan.namespace === "litellm" && plan.name === "allow-internet-egress",
    );
    expect(withHttp?.spec.egress).toEqual([
      {
        to: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
        ports: [443, 5432, 6543, 80].map((port) => ({ protocol: "TCP", port })),
      },
    ]);
  });

  it("lets Prometheus scrape every namespace and the nodes", () => {
    expect(byNamespace("ai-workbench")["allow-monitoring-scrape"]?.["ingress"]).toEqual([
      { from: [ns("monitoring")] },
    ]);
    expect(byNamespace("monitoring")["allow-scrape-everything"]?.["egress"]).toEqual([
      { to: [{ namespaceSelector: {} }] },
      {
        to: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
        ports: [
          { protocol: "TCP", port: 9100 },
          { protocol: "TCP", port: 10250 },
        ],
      },
    ]);
  });

  it("creates one NetworkPolicy per plan entry through the cluster provider", async () => {
    const component = new NetworkPolicies("np", { ...input, provider, namespaceOf: (name) => name });
    await mocks.settle();
    const created = mocks.ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(created).toHaveLength(component.plans.length);
    const deny = mocks.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "np-litellm-default-deny");
    expect(deny.inputs["metadata"]).toMatchObject({ name: "default-deny", namespace: "litellm" });
    for (const policy of created) expect(providerUrn(policy.provider)).toBe(providerRef);
  });

  it("refuses a flow to a namespace it does not manage", () => {
    expect(
      () =>
        new NetworkPolicies("np2", {
          ...input,
          flows: [{ from: "ai-workbench", to: "kafka" }],
          provider,
          namespaceOf: (name) => name,
        }),
    ).toThrow("np2: network policy names namespace 'kafka', which is not managed");
  });
});
