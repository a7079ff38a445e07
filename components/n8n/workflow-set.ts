import * as pulumi from "@pulumi/pulumi";
import { resolve } from "node:path";
import { projectProvider } from "../shared/project-provider.ts";
import type { N8nCredentialSpec } from "../../lib/n8n/api-client.ts";
import type { DeployedWorkflow } from "../../lib/n8n/deploy.ts";
import { loadWorkflowFiles } from "../../lib/n8n/workflow-files.ts";

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
