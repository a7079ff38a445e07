/**
 * n8n's edge: which paths of n8n's host reach which n8n process through Traefik, and the
 * request-body limit Traefik enforces on the webhook paths (pure; the N8n component renders
 * it as Ingresses and a Traefik Middleware, the edge test as a Traefik file-provider config).
 *
 * Why a limit at the edge: n8n answers 500, not 413, for a body over its own limit
 * (N8N_PAYLOAD_SIZE_MAX: raw-body's 413 error is not passed through by the webhook
 * handler), and no n8n setting changes that. Traefik's `buffering` middleware answers 413
 * before n8n sees such a body.
 */

const MIB = 1024 * 1024;

/**
 * The body limit the deployed workflows enforce themselves, answering 413 with the reason
 * (`MAX_BODY_BYTES` in n8n-workflows/real-time-transactions.json; a unit test keeps them equal).
 */
export const N8N_WORKFLOW_BODY_LIMIT_BYTES = 16 * MIB;

/**
 * n8n's request body limit (N8N_PAYLOAD_SIZE_MAX, MiB). Above the workflows' 16 MiB so that
 * their own limit answers 413 with its reason (n8n itself answers 500 for a body over this).
 */
export const N8N_PAYLOAD_SIZE_MAX_MIB = 32;

/** n8n's body limit in bytes: raw-body's `32mb`, which accepts a body of exactly this size. */
export const N8N_PAYLOAD_SIZE_MAX_BYTES = N8N_PAYLOAD_SIZE_MAX_MIB * MIB;

/** The port of both n8n Services the chart renders (`service.port`). */
export const N8N_SERVICE_PORT = 5678;

/** The two n8n processes the chart exposes, each behind its own Service. */
export type N8nProcess = "main" | "webhook-processor";

/** One group of paths routed to one n8n process (one Ingress in the cluster). */
export interface N8nEdgeRoute {
  /** Suffix of the Ingress name (`<fullname>-<name>`) and of the routers' names. */
  name: "main" | "webhooks" | "webhook-streams";
  /** Path prefixes (Ingress pathType Prefix, Traefik `PathPrefix`). */
  paths: readonly string[];
  /** The process whose Service serves them. */
  process: N8nProcess;
  /** Whether Traefik's body limit applies. */
  bodyLimited: boolean;
}

/**
 * The paths n8n's chart routes (its `ingress.yaml` and `ingress-webhook.yaml`, chart 1.x),
 * split by whether a body limit may sit in front of them:
 * - `webhooks`: production and waiting webhooks (every deployed workflow): JSON bodies
 *   that n8n's body parser refuses with 500 above N8N_PAYLOAD_SIZE_MAX. Limited.
 * - `webhook-streams`: form triggers (multipart uploads, which n8n parses with its own file
 *   limit, N8N_FORMDATA_FILE_SIZE_MAX, not N8N_PAYLOAD_SIZE_MAX) and the MCP server trigger
 *   (server-sent events: Traefik's buffering middleware buffers responses too, so an event
 *   stream would be held back until it ends). Not limited.
 * - `main`: the editor, its REST API, the public API and the editor's test webhooks, forms
 *   and MCP (the same reasons): signed-in editors and the operator only. Not limited; n8n's
 *   own behaviour (500 above N8N_PAYLOAD_SIZE_MAX) is unchanged there.
 */
export const N8N_EDGE_ROUTES: readonly N8nEdgeRoute[] = [
  { name: "main", paths: ["/"], process: "main", bodyLimited: false },
  {
    name: "webhooks",
    paths: ["/webhook/", "/webhook-waiting/"],
    process: "webhook-processor",
    bodyLimited: true,
  },
  {
    name: "webhook-streams",
    paths: ["/form/", "/form-waiting/", "/mcp/"],
    process: "webhook-processor",
    bodyLimited: false,
  },
];

/** The chart's `n8n.fullname` (no fullnameOverride/nameOverride): the prefix of its Services. */
export function n8nFullname(releaseName: string): string {
  const full = releaseName.includes("n8n") ? releaseName : `${releaseName}-n8n`;
  return full.slice(0, 63).replace(/-+$/, "");
}

/** Traefik's `buffering` middleware limited to `maxRequestBodyBytes` (413 above it). */
export interface BodyLimitMiddleware {
  /** Middleware name (the Kubernetes object's name, the file provider's key). */
  name: string;
  /** The Middleware's spec (traefik.io/v1alpha1) and the file provider's middleware value alike. */
  spec: { buffering: { maxRequestBodyBytes: number } };
}

export interface N8nEdgeSettings {
  /** n8n's Helm release name (the chart derives its object names from it). */
  releaseName: string;
  /** Public host. */
  host: string;
  /**
   * Traefik's body limit on the webhook paths, bytes (see {@link n8nBodyLimitProblem}).
   * Default n8n's own limit ({@link N8N_PAYLOAD_SIZE_MAX_BYTES}), so the workflows still
   * answer with their reason between 16 and 32 MiB.
   */
  maxRequestBodyBytes?: number;
}

/** n8n's edge: its routes and the body-limit middleware on the limited ones. */
export interface N8nEdge {
  host: string;
  /** Prefix of the chart's Services: `<fullname>-main`, `<fullname>-webhook-processor`. */
  fullname: string;
  middleware: BodyLimitMiddleware;
  routes: readonly N8nEdgeRoute[];
}

/**
 * Why a body limit cannot be used, or undefined. It must let every body the workflows
 * accept through (at least {@link N8N_WORKFLOW_BODY_LIMIT_BYTES}) and stop every body n8n
 * would answer 500 for (at most {@link N8N_PAYLOAD_SIZE_MAX_BYTES}).
 */
export function n8nBodyLimitProblem(bytes: number): string | undefined {
  if (
    !Number.isInteger(bytes) ||
    bytes < N8N_WORKFLOW_BODY_LIMIT_BYTES ||
    bytes > N8N_PAYLOAD_SIZE_MAX_BYTES
  ) {
    return (
      `must be a whole number of bytes from ${N8N_WORKFLOW_BODY_LIMIT_BYTES} (the workflows' own limit, ` +
      `16 MiB) to ${N8N_PAYLOAD_SIZE_MAX_BYTES} (n8n's N8N_PAYLOAD_SIZE_MAX, ${N8N_PAYLOAD_SIZE_MAX_MIB} MiB) (got ${bytes})`
    );
  }
  return undefined;
}

export function n8nEdge(settings: N8nEdgeSettings): N8nEdge {
  const maxRequestBodyBytes = settings.maxRequestBodyBytes ?? N8N_PAYLOAD_SIZE_MAX_BYTES;
  const problem = n8nBodyLimitProblem(maxRequestBodyBytes);
  if (problem) throw new Error(`n8n webhook body limit ${problem}`);
  const fullname = n8nFullname(settings.releaseName);
  return {
    host: settings.host,
    fullname,
    middleware: {
      name: `${fullname}-body-limit`,
      spec: { buffering: { maxRequestBodyBytes } },
    },
    routes: N8N_EDGE_ROUTES,
  };
}

/** The Service of one n8n process (as the chart names it). */
export function n8nServiceName(edge: N8nEdge, process: N8nProcess): string {
  return `${edge.fullname}-${process}`;
}

/** The value of Traefik's `router.middlewares` Ingress annotation for a Middleware CRD object. */
export function crdMiddlewareRef(namespace: string, name: string): string {
  return `${namespace}-${name}@kubernetescrd`;
}

/**
 * Traefik's dynamic configuration (file provider) equivalent to what the Ingresses and the
 * Middleware give Traefik's Kubernetes providers: one router per Ingress path, rule
 * `Host(…) && PathPrefix(…)`, the limited ones through the body-limit middleware, each
 * process's Service as a load balancer over `backends`.
 */
export function traefikFileConfig(
  edge: N8nEdge,
  backends: Record<N8nProcess, string>,
  entryPoint: string,
): Record<string, unknown> {
  const routers: Record<string, unknown> = {};
  for (const route of edge.routes) {
    route.paths.forEach((path, index) => {
      routers[`${edge.fullname}-${route.name}-${index}`] = {
        entryPoints: [entryPoint],
        rule: `Host(\`${edge.host}\`) && PathPrefix(\`${path}\`)`,
        service: n8nServiceName(edge, route.process),
        ...(route.bodyLimited ? { middlewares: [edge.middleware.name] } : {}),
      };
    });
  }
  const services: Record<string, unknown> = {};
  for (const process of ["main", "webhook-processor"] as const) {
    services[n8nServiceName(edge, process)] = { loadBalancer: { servers: [{ url: backends[process] }] } };
  }
  return { http: { routers, middlewares: { [edge.middleware.name]: edge.middleware.spec }, services } };
}
