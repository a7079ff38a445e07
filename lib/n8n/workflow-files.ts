/**
 * The exported n8n workflows in `n8n-workflows/`: loading, the static checks the unit
 * tests and the deployment share, and the body n8n's public API takes. Pure apart from
 * reading the files.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface N8nCredentialRef {
  /** Set by n8n once resolved; never in the files (ids differ per instance). */
  id?: string;
  name: string;
}

export interface N8nNode {
  id: string;
  name: string;
  type: string;
  typeVersion: number;
  position: [number, number];
  parameters: Record<string, unknown>;
  credentials?: Record<string, N8nCredentialRef>;
  webhookId?: string;
  disabled?: boolean;
  [key: string]: unknown;
}

export interface N8nConnection {
  node: string;
  type: string;
  index: number;
}

export type N8nConnections = Record<string, Record<string, (N8nConnection[] | null)[]>>;

export interface N8nWorkflow {
  id: string;
  name: string;
  description?: string;
  nodes: N8nNode[];
  connections: N8nConnections;
  settings?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface WorkflowFile {
  /** File name, e.g. `odoo-sync.json`. */
  file: string;
  /** sha256 of the file's bytes, hex. */
  checksum: string;
  workflow: N8nWorkflow;
}

/** n8n's workflow ids: 16 letters and digits (what n8n itself generates). */
export const WORKFLOW_ID = /^[A-Za-z0-9]{16}$/;

/**
 * The node types and versions the workflows may use. Each was checked against the
 * installed n8n's node definitions (the unit test re-checks when n8n is in the cache);
 * adding a node type means adding it here, on purpose.
 */
export const ALLOWED_NODE_TYPES: Readonly<Record<string, readonly number[]>> = {
  "n8n-nodes-base.webhook": [2.1],
  "n8n-nodes-base.respondToWebhook": [1.4],
  "n8n-nodes-base.scheduleTrigger": [1.2],
  "n8n-nodes-base.code": [2],
  "n8n-nodes-base.if": [2.2],
  "n8n-nodes-base.set": [3.4],
  "n8n-nodes-base.postgres": [2.6],
  "n8n-nodes-base.httpRequest": [4.2],
  "n8n-nodes-base.emailSend": [2.1],
};

/** Credential types per node type: a node may reference only these (by name). */
export const ALLOWED_CREDENTIAL_TYPES: Readonly<Record<string, readonly string[]>> = {
  "n8n-nodes-base.webhook": ["httpHeaderAuth", "jwtAuth"],
  "n8n-nodes-base.postgres": ["postgres"],
  "n8n-nodes-base.emailSend": ["smtp"],
};

/** Parameter names whose literal values would be inline secrets. */
const SECRET_PARAMETER =
  /^(password|passwd|secret|token|api_?key|access_?token|private_?key|authorization)$/i;

export function checksumOf(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Reads every `*.json` in `directory`, sorted by file name. */
export function loadWorkflowFiles(directory: string): WorkflowFile[] {
  const files = readdirSync(directory)
    .filter((file) => file.endsWith(".json"))
    .sort();
  return files.map((file) => {
    const text = readFileSync(join(directory, file), "utf8");
    let workflow: N8nWorkflow;
    try {
      workflow = JSON.parse(text) as N8nWorkflow;
    } catch (error) {
      throw new Error(
        `${join(directory, file)} is not valid JSON (${(error as Error).message}): export it from n8n again`,
        {
          cause: error,
        },
      );
    }
    return { file, checksum: checksumOf(text), workflow };
  });
}

function walk(
  value: unknown,
  path: string,
  visit: (path: string, key: string, value: unknown) => void,
): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => walk(item, `${path}[${index}]`, visit));
  } else if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      visit(`${path}.${key}`, key, child);
      walk(child, `${path}.${key}`, visit);
    }
  }
}

/**
 * Problems with one workflow, as messages naming the file and node; empty when it is
 * deployable. `nodeTypes`, when given, is the installed n8n's catalogue (type -> versions)
 * and every node must be in it too.
 */
export function workflowProblems(
  file: string,
  workflow: N8nWorkflow,
  nodeTypes?: ReadonlyMap<string, readonly number[]>,
): string[] {
  const problems: string[] = [];
  if (typeof workflow.id !== "string" || !WORKFLOW_ID.test(workflow.id)) {
    problems.push(
      `id must be a fixed 16-character id of letters and digits (got ${JSON.stringify(workflow.id)})`,
    );
  }
  if (typeof workflow.name !== "string" || workflow.name.trim() === "") problems.push("name is missing");
  if (!Array.isArray(workflow.nodes) || workflow.nodes.length === 0) problems.push("has no nodes");
  else {
    const names = new Set<string>();
    const ids = new Set<string>();
    for (const node of workflow.nodes) {
      const label = `node '${node.name}'`;
      if (names.has(node.name)) problems.push(`two nodes are named '${node.name}'`);
      names.add(node.name);
      if (typeof node.id !== "string" || node.id === "") problems.push(`${label} has no id`);
      else if (ids.has(node.id)) problems.push(`${label} reuses node id ${node.id}`);
      ids.add(node.id);
      problems.push(
        ...nodeTypeProblems(node, nodeTypes).map((problem) => `${label}${problem}`),
        ...nodeCredentialProblems(node).map((problem) => `${label}: ${problem}`),
        ...inlineSecretProblems(node).map((problem) => `${label}: ${problem}`),
        ...(node.type === "n8n-nodes-base.webhook" ? webhookProblems(node, workflow) : []).map(
          (problem) => `${label}: ${problem}`,
        ),
      );
    }
    problems.push(...connectionProblems(workflow, names), ...unreachedNodes(workflow));
  }
  return problems.map((problem) => `${file}: ${problem}`);
}

/** The node's type and version against ALLOWED_NODE_TYPES and the installed n8n's (each message follows the node's label). */
function nodeTypeProblems(node: N8nNode, nodeTypes?: ReadonlyMap<string, readonly number[]>): string[] {
  const problems: string[] = [];
  const allowed = ALLOWED_NODE_TYPES[node.type];
  if (!allowed) {
    problems.push(` has type ${node.type}, which is not in ALLOWED_NODE_TYPES (lib/n8n/workflow-files.ts)`);
  } else if (!allowed.includes(node.typeVersion)) {
    problems.push(
      `: ${node.type} version ${node.typeVersion} is not allowed (allowed: ${allowed.join(", ")})`,
    );
  }
  if (nodeTypes) {
    const installed = nodeTypes.get(node.type);
    if (!installed) problems.push(`: the installed n8n has no node type ${node.type}`);
    else if (!installed.includes(node.typeVersion)) {
      problems.push(
        `: the installed n8n has ${node.type} versions ${installed.join(", ")}, not ${node.typeVersion}`,
      );
    }
  }
  return problems;
}

/** Credentials referenced by name only, of a type the node takes. */
function nodeCredentialProblems(node: N8nNode): string[] {
  const problems: string[] = [];
  for (const [type, ref] of Object.entries(node.credentials ?? {})) {
    const keys = Object.keys(ref ?? {});
    if (!ref || typeof ref.name !== "string" || ref.name === "") {
      problems.push(`credential ${type} must be referenced by name`);
    } else if (keys.some((key) => key !== "name")) {
      problems.push(
        `credential ${type} must carry only its name (found ${keys.join(", ")}): ids differ per n8n instance and data is never inline`,
      );
    }
    if (!(ALLOWED_CREDENTIAL_TYPES[node.type] ?? []).includes(type)) {
      problems.push(`credential type ${type} is not expected on ${node.type}`);
    }
  }
  return problems;
}

/** Literal secrets and authorization values in the node's parameters. */
function inlineSecretProblems(node: N8nNode): string[] {
  const problems: string[] = [];
  walk(node.parameters, "parameters", (path, key, value) => {
    if (SECRET_PARAMETER.test(key) && typeof value === "string" && value !== "" && !value.startsWith("=")) {
      problems.push(`${path} holds a literal secret; use a credential or an expression`);
    }
    if (typeof value === "string" && /\b(Bearer|Basic)\s+[A-Za-z0-9+/=._-]{12,}/.test(value)) {
      problems.push(`${path} holds an authorization value inline; use a credential`);
    }
  });
  return problems;
}

/** A webhook node's path, fixed webhookId and Respond to Webhook node. */
function webhookProblems(node: N8nNode, workflow: N8nWorkflow): string[] {
  const problems: string[] = [];
  const path = node.parameters["path"];
  if (typeof path !== "string" || !/^[a-z0-9][a-z0-9-]*$/.test(path)) {
    problems.push(`webhook path must be lowercase letters, digits and dashes (got ${JSON.stringify(path)})`);
  }
  if (typeof node.webhookId !== "string" || node.webhookId === "")
    problems.push("webhook has no fixed webhookId");
  if (
    node.parameters["responseMode"] === "responseNode" &&
    !workflow.nodes.some((n) => n.type === "n8n-nodes-base.respondToWebhook")
  ) {
    problems.push("responds through a Respond to Webhook node, but the workflow has none");
  }
  return problems;
}

/** Connections between existing nodes, of one connection type each. */
function connectionProblems(workflow: N8nWorkflow, names: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  for (const [source, outputs] of Object.entries(workflow.connections ?? {})) {
    if (!names.has(source)) problems.push(`a connection starts at '${source}', which is not a node`);
    for (const [kind, branches] of Object.entries(outputs)) {
      for (const branch of branches) {
        for (const target of branch ?? []) {
          if (!names.has(target.node))
            problems.push(`'${source}' connects (${kind}) to '${target.node}', which is not a node`);
          if (target.type !== kind)
            problems.push(`'${source}' -> '${target.node}' mixes connection types ${kind}/${target.type}`);
        }
      }
    }
  }
  return problems;
}

/** Every node must be reachable from a trigger (a webhook or a *Trigger node). */
function unreachedNodes(workflow: N8nWorkflow): string[] {
  const isTrigger = (node: N8nNode) => /Trigger$/.test(node.type) || node.type === "n8n-nodes-base.webhook";
  const reached = new Set(workflow.nodes.filter(isTrigger).map((node) => node.name));
  const queue = [...reached];
  while (queue.length) {
    const outputs = workflow.connections?.[queue.shift() as string] ?? {};
    for (const branches of Object.values(outputs)) {
      for (const branch of branches) {
        for (const target of branch ?? []) {
          if (!reached.has(target.node)) {
            reached.add(target.node);
            queue.push(target.node);
          }
        }
      }
    }
  }
  return workflow.nodes
    .filter((node) => !reached.has(node.name))
    .map((node) => `node '${node.name}' is never reached: connect it or remove it`);
}

/** Webhook paths used by more than one webhook node across the files, with where. */
export function duplicateWebhookPaths(files: readonly WorkflowFile[]): string[] {
  const seen = new Map<string, string[]>();
  for (const { file, workflow } of files) {
    for (const node of workflow.nodes) {
      if (node.type !== "n8n-nodes-base.webhook") continue;
      const key = `${String(node.parameters["httpMethod"] ?? "GET")} ${String(node.parameters["path"])}`;
      seen.set(key, [...(seen.get(key) ?? []), `${file} '${node.name}'`]);
    }
  }
  return [...seen.entries()]
    .filter(([, where]) => where.length > 1)
    .map(([key, where]) => `${key}: ${where.join(", ")}`);
}

/** How each webhook authenticates its callers (the node's `authentication`), by credential type. */
const WEBHOOK_AUTHENTICATION: Readonly<Record<string, string>> = {
  headerAuth: "httpHeaderAuth",
  jwtAuth: "jwtAuth",
};

/**
 * Webhooks that let an unauthenticated caller in, or share their credential with another
 * webhook (one credential per workflow, so each can be rotated and revoked on its own).
 */
export function webhookAuthenticationProblems(files: readonly WorkflowFile[]): string[] {
  const problems: string[] = [];
  const users = new Map<string, string[]>();
  for (const { file, workflow } of files) {
    for (const node of workflow.nodes) {
      if (node.type !== "n8n-nodes-base.webhook" || node.disabled) continue;
      const label = `${file}: webhook '${node.name}'`;
      const mode = String(node.parameters["authentication"] ?? "none");
      const type = WEBHOOK_AUTHENTICATION[mode];
      if (!type) {
        problems.push(
          `${label} takes unauthenticated calls (authentication ${mode}); use headerAuth or jwtAuth`,
        );
        continue;
      }
      const ref = node.credentials?.[type];
      if (!ref?.name) {
        problems.push(`${label} authenticates with ${mode} but names no ${type} credential`);
        continue;
      }
      const key = `${type}/${ref.name}`;
      users.set(key, [...(users.get(key) ?? []), label]);
    }
  }
  for (const [key, labels] of users) {
    if (labels.length > 1)
      problems.push(`${labels.join(" and ")} share the credential ${key}; give each its own`);
  }
  return problems;
}

/** Credential names the workflows reference, with their types: what an n8n needs before import. */
export function referencedCredentials(files: readonly WorkflowFile[]): { name: string; type: string }[] {
  const refs = new Map<string, { name: string; type: string }>();
  for (const { workflow } of files) {
    for (const node of workflow.nodes) {
      if (node.disabled) continue;
      for (const [type, ref] of Object.entries(node.credentials ?? {}))
        refs.set(`${type}/${ref.name}`, { name: ref.name, type });
    }
  }
  return [...refs.values()].sort((a, b) => `${a.type}/${a.name}`.localeCompare(`${b.type}/${b.name}`));
}

/** The workflow settings n8n's public API accepts (its schema has no additional properties). */
const API_SETTINGS = [
  "saveExecutionProgress",
  "saveManualExecutions",
  "saveDataErrorExecution",
  "saveDataSuccessExecution",
  "executionTimeout",
  "errorWorkflow",
  "timezone",
  "executionOrder",
  "callerPolicy",
  "callerIds",
];

/**
 * The body for POST/PUT /api/v1/workflows: name, nodes (credential names resolved to this
 * instance's ids), connections, settings.
 */
export function toApiWorkflow(
  workflow: N8nWorkflow,
  credentialIds: ReadonlyMap<string, string>,
): { name: string; nodes: N8nNode[]; connections: N8nConnections; settings: Record<string, unknown> } {
  const nodes = workflow.nodes.map((node) => {
    if (!node.credentials) return node;
    const credentials: Record<string, N8nCredentialRef> = {};
    for (const [type, ref] of Object.entries(node.credentials)) {
      const id = credentialIds.get(`${type}/${ref.name}`);
      if (!id && !node.disabled) {
        throw new Error(
          `workflow '${workflow.name}' node '${node.name}' needs the ${type} credential '${ref.name}', which this n8n does not have: create it first`,
        );
      }
      credentials[type] = id ? { id, name: ref.name } : { name: ref.name };
    }
    return { ...node, credentials };
  });
  const settings = Object.fromEntries(
    Object.entries(workflow.settings ?? {}).filter(([key]) => API_SETTINGS.includes(key)),
  );
  return { name: workflow.name, nodes, connections: workflow.connections, settings };
}

/** Webhook paths of a workflow's enabled webhook nodes (what must answer once it is active). */
export function webhookPathsOf(workflow: N8nWorkflow): string[] {
  return workflow.nodes
    .filter((node) => node.type === "n8n-nodes-base.webhook" && !node.disabled)
    .map((node) => String(node.parameters["path"]));
}
