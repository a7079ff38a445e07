/**
 * Pulumi unit-test mocks that record every registered resource.
 *
 * Call {@link installMocks} first, then import the component modules dynamically
 * (`await import(...)`), construct, `await mocks.settle()`, and assert on
 * `mocks.resources`: type, name, inputs (secrets unwrapped), raw inputs (secret markers
 * kept), parent URN, provider reference, additionalSecretOutputs, ignoreChanges and aliases.
 *
 * The mock monitor only hands `newResource` the type, name, inputs and provider; the
 * parent and the resource options come from wrapping the monitor's `registerResource`.
 */
import * as pulumi from "@pulumi/pulumi";

export interface RecordedResource {
  type: string;
  name: string;
  urn: string;
  /** False for component resources. */
  custom: boolean;
  /** Inputs as registered, with secrets unwrapped to their plain values. */
  inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- resource inputs are untyped wire data
  /** Inputs with Pulumi's secret markers kept: see {@link isSecretInput}. */
  rawInputs: Record<string, unknown>;
  /** URN of the parent resource ("" for the root). */
  parent: string;
  /** Provider reference `<provider urn>::<id>`, or "" when the default provider applies. */
  provider: string;
  additionalSecretOutputs: string[];
  ignoreChanges: string[];
  /** URNs of explicit and implicit dependencies. */
  dependencies: string[];
  deleteBeforeReplace: boolean;
  protect: boolean;
  retainOnDelete: boolean;
  /**
   * The URNs the resource's aliases resolve to, as the engine resolves them (an alias spec's
   * missing name, type, stack, project and parent default to the resource's own).
   */
  aliases: string[];
}

export interface MockOptions {
  project?: string;
  stack?: string;
  preview?: boolean;
  /** Extra computed outputs for a resource, merged over the built-in fakes. */
  outputs?: (args: pulumi.runtime.MockResourceArgs) => Record<string, unknown> | undefined;
  /** Results of provider functions (data sources) by token; undefined: the call is refused. */
  calls?: (args: pulumi.runtime.MockCallArgs) => Record<string, unknown> | undefined;
}

/** A kubeconfig-shaped fake, returned as the DOKS cluster's raw config. */
export const FAKE_KUBECONFIG = [
  "apiVersion: v1",
  "kind: Config",
  "clusters:",
  "- cluster: {server: 'https://mock-cluster.k8s.ondigitalocean.com', certificate-authority-data: bW9jaw==}",
  "  name: mock",
  "contexts:",
  "- context: {cluster: mock, user: mock-admin}",
  "  name: mock",
  "current-context: mock",
  "users:",
  "- name: mock-admin",
  "  user: {token: mock-token}",
].join("\n");

interface PendingRequest {
  parent: string;
  additionalSecretOutputs: string[];
  ignoreChanges: string[];
  dependencies: string[];
  deleteBeforeReplace: boolean;
  protect: boolean;
  retainOnDelete: boolean;
  aliases: string[];
}

/** Fake computed outputs, per type, so components can wire resources together. */
function builtInOutputs(args: pulumi.runtime.MockResourceArgs): Record<string, unknown> {
  const inputs = unwrapSecrets(args.inputs) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- wire data
  switch (args.type) {
    case "digitalocean:index/kubernetesCluster:KubernetesCluster":
      return {
        name: inputs["name"] ?? args.name,
        clusterUrn: `do:kubernetes:${args.name}-id`,
        endpoint: "https://mock-cluster.k8s.ondigitalocean.com",
        kubeConfigs: [
          {
            rawConfig: FAKE_KUBECONFIG,
            host: "https://mock-cluster.k8s.ondigitalocean.com",
            token: "mock-token",
            clusterCaCertificate: "bW9jay1jYQ==",
            expiresAt: "2026-12-07T00:00:00Z",
          },
        ],
      };
    case "digitalocean:index/vpc:Vpc":
      return { name: inputs["name"] ?? args.name, vpcUrn: `do:vpc:${args.name}-id` };
    case "digitalocean:index/containerRegistry:ContainerRegistry":
      return {
        endpoint: `registry.digitalocean.com/${inputs["name"] ?? args.name}`,
        serverUrl: "registry.digitalocean.com",
        name: inputs["name"] ?? args.name,
      };
    case "digitalocean:index/containerRegistryDockerCredentials:ContainerRegistryDockerCredentials":
      return { dockerCredentials: '{"auths":{"registry.digitalocean.com":{"auth":"bW9jazptb2Nr"}}}' };
    case "digitalocean:index/spacesBucket:SpacesBucket": {
      const bucket = (inputs["name"] as string | undefined) ?? args.name;
      return {
        name: bucket,
        bucketDomainName: `${bucket}.${inputs["region"]}.digitaloceanspaces.com`,
        endpoint: `${inputs["region"]}.digitaloceanspaces.com`,
        urn: `do:space:${bucket}`,
      };
    }
    case "digitalocean:index/spacesKey:SpacesKey":
      return { accessKey: "DO00MOCKACCESSKEY", secretKey: "mock-spaces-secret-key" };
    case "digitalocean:index/app:App":
      return {
        liveUrl: `https://${args.name}.ondigitalocean.app`,
        defaultIngress: `https://${args.name}.ondigitalocean.app`,
      };
    case "kubernetes:helm.sh/v3:Release":
      return {
        status: {
          name: inputs["name"] ?? args.name,
          namespace: inputs["namespace"],
          chart: inputs["chart"],
          version: inputs["version"],
          status: "deployed",
          revision: 1,
        },
      };
    case "random:index/randomPassword:RandomPassword":
      return { result: `mock-password-${args.name}` };
    default:
      // Auto-naming (done by the engine, which mocks skip): DigitalOcean names default to the resource name.
      return args.type.startsWith("digitalocean:") ? { name: inputs["name"] ?? args.name } : {};
  }
}

/** True when a raw (wire) value is a Pulumi secret. */
export function isSecretInput(value: unknown): boolean {
  return pulumi.runtime.isRpcSecret(value);
}

/**
 * True when the raw value at `path` is secret: the value itself or a container on the way
 * to it is a secret marker (the runtime marks whole containers of secret elements).
 */
export function isSecretAt(raw: unknown, ...path: (string | number)[]): boolean {
  let current = raw;
  for (const key of path) {
    if (pulumi.runtime.isRpcSecret(current)) return true;
    if (current === null || typeof current !== "object") return false;
    current = (current as Record<string | number, unknown>)[key];
  }
  return pulumi.runtime.isRpcSecret(current);
}

/** Replaces every secret marker in a wire value by the value it wraps. */
export function unwrapSecrets(value: unknown): unknown {
  if (pulumi.runtime.isRpcSecret(value)) return unwrapSecrets(pulumi.runtime.unwrapRpcSecret(value));
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, unwrapSecrets(inner)]));
  }
  return value;
}

/** Resolves an Output's value (tests run outside preview, so values are known). */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

export const isSecretOutput = <T>(output: pulumi.Output<T>): Promise<boolean> => pulumi.isSecret(output);

export class MockRecorder {
  readonly resources: RecordedResource[] = [];

  /** Waits until every registration has reached the mock monitor. */
  async settle(): Promise<void> {
    const runtime = pulumi.runtime as unknown as { waitForRPCs(): Promise<void> };
    let seen = -1;
    while (seen !== this.resources.length) {
      seen = this.resources.length;
      await runtime.waitForRPCs();
      for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  ofType(type: string): RecordedResource[] {
    return this.resources.filter((resource) => resource.type === type);
  }

  /** The one resource of `type` (named `name`, when given); throws when there is not exactly one. */
  one(type: string, name?: string): RecordedResource {
    const found = this.ofType(type).filter((resource) => name === undefined || resource.name === name);
    if (found.length !== 1) {
      const names = this.ofType(type).map((resource) => resource.name);
      throw new Error(
        `expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length} (${names.join(", ")})`,
      );
    }
    return found[0] as RecordedResource;
  }

  byUrn(urn: string): RecordedResource | undefined {
    return this.resources.find((resource) => resource.urn === urn);
  }

  /** Resources whose parent is `urn`. */
  childrenOf(urn: string): RecordedResource[] {
    return this.resources.filter((resource) => resource.parent === urn);
  }

  /** Type → count over everything registered (components included). */
  inventory(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const resource of this.resources) counts[resource.type] = (counts[resource.type] ?? 0) + 1;
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
  }
}

/** The URN part of a provider reference (`<urn>::<id>`). */
export function providerUrn(reference: string): string {
  const split = reference.lastIndexOf("::");
  return split < 0 ? reference : reference.slice(0, split);
}

/**
 * Installs mocks that record every resource. Call before importing the modules under test.
 */
export async function installMocks(options: MockOptions = {}): Promise<MockRecorder> {
  const recorder = new MockRecorder();
  const pending = new Map<string, PendingRequest>();
  const key = (type: string, name: string) => `${type}\u0000${name}`;

  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const request = pending.get(key(args.type, args.name));
        const state = {
          ...(args.inputs as Record<string, unknown>),
          ...builtInOutputs(args),
          ...(options.outputs?.(args) ?? {}),
        };
        const monitor = pulumi.runtime.getMonitor() as unknown as {
          newUrn(parent: string, type: string, name: string): string;
        };
        recorder.resources.push({
          type: args.type,
          name: args.name,
          urn: monitor.newUrn(request?.parent ?? "", args.type, args.name),
          custom: args.custom ?? false,
          inputs: unwrapSecrets(args.inputs) as Record<string, unknown>,
          rawInputs: args.inputs as Record<string, unknown>,
          parent: request?.parent ?? "",
          provider: args.provider ?? "",
          additionalSecretOutputs: request?.additionalSecretOutputs ?? [],
          ignoreChanges: request?.ignoreChanges ?? [],
          dependencies: request?.dependencies ?? [],
          deleteBeforeReplace: request?.deleteBeforeReplace ?? false,
          protect: request?.protect ?? false,
          retainOnDelete: request?.retainOnDelete ?? false,
          aliases: request?.aliases ?? [],
        });
        return { id: args.custom ? `${args.name}-id` : undefined, state };
      },
      call(args) {
        const result = options.calls?.(args);
        if (result !== undefined) return result;
        throw new Error(
          `unexpected provider function call ${args.token}: give installMocks a result for it (options.calls)`,
        );
      },
    },
    options.project ?? "ai-workbench",
    options.stack ?? "test",
    options.preview ?? false,
  );

  // Wrap registerResource to see what the mock API does not pass on: parent and options.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(request: RegisterRequest, callback: unknown): unknown;
  };
  const original = monitor.registerResource.bind(monitor);
  const project = options.project ?? "ai-workbench";
  const stack = options.stack ?? "test";
  monitor.registerResource = (request, callback) => {
    const own = { type: request.getType(), name: request.getName(), parent: request.getParent() };
    pending.set(key(request.getType(), request.getName()), {
      parent: request.getParent(),
      additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
      ignoreChanges: request.getIgnorechangesList(),
      dependencies: request.getDependenciesList(),
      deleteBeforeReplace: request.getDeletebeforereplace(),
      protect: request.getProtect() ?? false,
      retainOnDelete: request.getRetainondelete() ?? false,
      aliases: request.getAliasesList().map((alias) => aliasUrn(alias, own, project, stack)),
    });
    return original(request, callback);
  };
  return recorder;
}

/** The qualified type in a URN (`parentType$…$type`): what a child's type is prefixed with. */
function qualifiedTypeOf(urn: string): string {
  return urn.split("::")[2] ?? "";
}

/**
 * The URN an alias stands for, resolved the way the engine does: a URN alias as given; a spec's
 * empty name, type, stack and project are the resource's own, and its parent is the spec's
 * parent URN, none (`noParent`), or else the resource's parent.
 */
export function aliasUrn(
  alias: AliasMessage,
  resource: { type: string; name: string; parent: string },
  project: string,
  stack: string,
): string {
  if (alias.getUrn()) return alias.getUrn();
  const spec = alias.getSpec();
  if (!spec) throw new Error(`alias of ${resource.type} ${resource.name} has neither a URN nor a spec`);
  const parent = spec.getNoparent() ? "" : spec.getParenturn() || resource.parent;
  const type = spec.getType() || resource.type;
  const parentType = parent ? qualifiedTypeOf(parent) : "";
  // Children of the root stack resource carry no prefix (the engine leaves the Stack type out).
  const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
  return `urn:pulumi:${spec.getStack() || stack}::${spec.getProject() || project}::${qualified}::${spec.getName() || resource.name}`;
}

/** The wire form of an alias (pulumi's alias_pb.Alias): a URN, or a spec to resolve. */
interface AliasMessage {
  getUrn(): string;
  getSpec():
    | {
        getName(): string;
        getType(): string;
        getStack(): string;
        getProject(): string;
        getParenturn(): string;
        getNoparent(): boolean;
      }
    | undefined;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getAdditionalsecretoutputsList(): string[];
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
  getDeletebeforereplace(): boolean;
  getProtect(): boolean | undefined;
  getRetainondelete(): boolean | undefined;
  getAliasesList(): AliasMessage[];
}
