/**
 * The `WorkflowSet` dynamic resource: its args, its class and its provider (loaded in the
 * provider process through components/shared/provider-registry.ts). The program passes
 * the workflow files it saw (file, fixed id, checksum); the provider re-reads them and
 * refuses to deploy anything else, then goes through n8n's public API (lib/n8n/deploy.ts).
 * No side effects on import.
 */
import * as pulumi from "@pulumi/pulumi";
import { resolve } from "node:path";
import { N8nApiClient, type N8nCredentialSpec } from "../../lib/n8n/api-client.ts";
import {
  credentialKey,
  deployWorkflows,
  ensureCredentials,
  removeWorkflows,
  type DeployedWorkflow,
} from "../../lib/n8n/deploy.ts";
import {
  duplicateWebhookPaths,
  loadWorkflowFiles,
  webhookAuthenticationProblems,
  workflowProblems,
} from "../../lib/n8n/workflow-files.ts";
import { projectRoot } from "../../lib/paths.ts";
import { projectProvider } from "../shared/project-provider.ts";

export interface WorkflowSetArgs {
  /** n8n's base URL, e.g. `https://n8n.workbench.example.com` (the public API is `/api/v1` under it). */
  apiUrl: pulumi.Input<string>;
  /** An n8n API key (Settings > n8n API) of the user who owns the workflows. Secret. */
  apiKey: pulumi.Input<string>;
  /** Project root the directory is relative to (the program's root). */
  projectRoot: string;
  /** Directory of exported workflow JSON, relative to the project root. Default `n8n-workflows`. */
  directory?: string;
  /**
   * Credentials the workflows reference by name, created or updated (by type and name)
   * before the workflows and deleted with the set. Secret. Default none: they must then
   * exist in n8n already.
   */
  credentials?: pulumi.Input<pulumi.Input<N8nCredentialSpec>[]>;
  /** Activate every workflow (webhooks and schedules go live). Default true. */
  activate?: boolean;
}

/**
 * The exported n8n workflows of a directory, imported and activated through n8n's public
 * API (`X-N8N-API-KEY`). Changes (and so re-deploys) when a file is added, removed or
 * edited, or the credentials change; a removed file's workflow is deleted from n8n.
 * Token `workbench:n8n:WorkflowSet`.
 */
export class WorkflowSet extends pulumi.dynamic.Resource {
  /** Per workflow: the fixed id of its file, the id n8n gave it, its version and state. */
  declare public readonly deployed: pulumi.Output<DeployedWorkflow[]>;

  constructor(name: string, args: WorkflowSetArgs, opts?: pulumi.CustomResourceOptions) {
    const directory = args.directory ?? "n8n-workflows";
    // Read at program time so a new or edited file shows up in the diff.
    const workflows = loadWorkflowFiles(resolve(args.projectRoot, directory)).map(
      ({ file, checksum, workflow }) => ({
        file,
        id: workflow.id,
        name: workflow.name,
        checksum,
      }),
    );
    super(
      projectProvider("workbench:n8n:WorkflowSet"),
      name,
      {
        apiUrl: args.apiUrl,
        apiKey: pulumi.secret(args.apiKey),
        directory,
        workflows,
        credentials: pulumi.secret(args.credentials ?? []),
        activate: args.activate ?? true,
        deployed: undefined,
        credentialIds: undefined,
      },
      pulumi.mergeOptions(opts, { additionalSecretOutputs: ["apiKey", "credentials"] }),
      "workbench:n8n",
      "WorkflowSet",
    );
  }
}

// ---- provider: runs in the dynamic-provider process (registered in components/shared/provider-registry.ts) ----

export interface WorkflowRecord {
  file: string;
  /** The fixed id in the file. */
  id: string;
  name: string;
  checksum: string;
}

export interface WorkflowSetInputs {
  /** n8n's base URL (the public API is `<apiUrl>/api/v1`). */
  apiUrl: string;
  apiKey: string;
  /** Directory of the workflow files, relative to the project root (or absolute). */
  directory: string;
  workflows: WorkflowRecord[];
  /** Credentials to create or update before the workflows (by type and name). */
  credentials: N8nCredentialSpec[];
  activate: boolean;
}

export interface WorkflowSetOutputs extends WorkflowSetInputs {
  /** What n8n holds: fixed id -> n8n's id, version and state. */
  deployed: DeployedWorkflow[];
  /** n8n ids of the credentials this set manages, by `<type>/<name>`. */
  credentialIds: Record<string, string>;
}

/** The files on disk, checked against what the program saw and validated. */
export function readWorkflowSet(inputs: Pick<WorkflowSetInputs, "directory" | "workflows">) {
  const directory = resolve(projectRoot(), inputs.directory);
  const files = loadWorkflowFiles(directory);
  const expected = JSON.stringify(inputs.workflows.map((w) => [w.file, w.checksum]));
  const actual = JSON.stringify(files.map((f) => [f.file, f.checksum]));
  if (expected !== actual) {
    throw new Error(
      `the workflow files in ${inputs.directory} changed while the deployment ran; re-run the deployment`,
    );
  }
  const problems = [
    ...files.flatMap((f) => workflowProblems(f.file, f.workflow)),
    ...duplicateWebhookPaths(files),
    ...webhookAuthenticationProblems(files),
  ];
  if (problems.length)
    throw new Error(`the workflows in ${inputs.directory} cannot be deployed:\n  ${problems.join("\n  ")}`);
  return files;
}

async function deploy(inputs: WorkflowSetInputs, known: Record<string, string>): Promise<WorkflowSetOutputs> {
  const files = readWorkflowSet(inputs);
  const client = new N8nApiClient(inputs.apiUrl, inputs.apiKey);
  const ids = await ensureCredentials(client, inputs.credentials);
  const deployed = await deployWorkflows(client, files, ids, { activate: inputs.activate, known });
  const credentialIds = Object.fromEntries(
    inputs.credentials.map((c) => [
      credentialKey(c.type, c.name),
      ids.get(credentialKey(c.type, c.name)) as string,
    ]),
  );
  return { ...inputs, deployed, credentialIds };
}

const knownIds = (deployed: readonly DeployedWorkflow[] | undefined) =>
  Object.fromEntries((deployed ?? []).map((d) => [d.fileId, d.id]));

export const workflowSetProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news: WorkflowSetInputs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    if (!/^https?:\/\/[^\s/]+/.test(news.apiUrl ?? "")) {
      failures.push({
        property: "apiUrl",
        reason: `must be n8n's http(s) base URL (got ${JSON.stringify(news.apiUrl)})`,
      });
    }
    if (!news.apiKey)
      failures.push({ property: "apiKey", reason: "an n8n API key is required (n8n Settings > n8n API)" });
    return { inputs: news, failures };
  },
  async diff(_id, olds: WorkflowSetOutputs, news: WorkflowSetInputs) {
    const sameInstance = olds.apiUrl === news.apiUrl;
    const changes =
      !sameInstance ||
      olds.apiKey !== news.apiKey ||
      olds.activate !== news.activate ||
      JSON.stringify(olds.workflows) !== JSON.stringify(news.workflows) ||
      JSON.stringify(olds.credentials) !== JSON.stringify(news.credentials);
    return { changes, replaces: sameInstance ? [] : ["apiUrl"], deleteBeforeReplace: false };
  },
  async create(inputs: WorkflowSetInputs) {
    const outs = await deploy(inputs, {});
    return { id: `n8n-workflows:${inputs.directory}`, outs };
  },
  async update(_id, olds: WorkflowSetOutputs, news: WorkflowSetInputs) {
    const outs = await deploy(news, knownIds(olds.deployed));
    // Workflows whose files were removed leave n8n too.
    const kept = new Set(outs.deployed.map((d) => d.id));
    const client = new N8nApiClient(news.apiUrl, news.apiKey);
    await removeWorkflows(
      client,
      (olds.deployed ?? []).map((d) => d.id).filter((id) => !kept.has(id)),
    );
    const stillManaged = new Set(news.credentials.map((c) => credentialKey(c.type, c.name)));
    for (const [key, id] of Object.entries(olds.credentialIds ?? {})) {
      if (!stillManaged.has(key)) await client.deleteCredential(id);
    }
    return { outs };
  },
  async read(id, props: WorkflowSetOutputs) {
    return { id, props };
  },
  async delete(_id, props: WorkflowSetOutputs) {
    const client = new N8nApiClient(props.apiUrl, props.apiKey);
    await removeWorkflows(
      client,
      (props.deployed ?? []).map((d) => d.id),
    );
    for (const id of Object.values(props.credentialIds ?? {})) await client.deleteCredential(id);
  },
};
