/**
 * Puts workflow files into an n8n through its public API: credentials first (created or
 * updated by name), then each workflow (created, or updated in place), then activated. Used by the WorkflowSet provider and the integration tests.
 */
import { N8nApiError, type N8nApiClient, type N8nCredentialSpec } from "./api-client.ts";
import { referencedCredentials, toApiWorkflow, type WorkflowFile } from "./workflow-files.ts";

export interface DeployedWorkflow {
  /** The fixed id in the file. */
  fileId: string;
  /** The id n8n gave the workflow. */
  id: string;
  name: string;
  file: string;
  versionId: string;
  active: boolean;
}

/** Key of a credential in the id map: `<type>/<name>`. */
export const credentialKey = (type: string, name: string) => `${type}/${name}`;

/**
 * Creates the credentials that are missing (by type and name) and updates the data of the
 * ones that exist; returns the ids of every credential n8n has, by {@link credentialKey}.
 */
export async function ensureCredentials(
  client: N8nApiClient,
  specs: readonly N8nCredentialSpec[],
  log: (line: string) => void = () => undefined,
): Promise<Map<string, string>> {
  const existing = await client.listCredentials();
  const ids = new Map<string, string>();
  const duplicates = new Set<string>();
  for (const credential of existing) {
    const key = credentialKey(credential.type, credential.name);
    if (ids.has(key)) duplicates.add(key);
    ids.set(key, credential.id);
  }
  for (const spec of specs) {
    const key = credentialKey(spec.type, spec.name);
    if (duplicates.has(key)) {
      throw new Error(
        `n8n has several ${spec.type} credentials named '${spec.name}': delete the extra ones so the workflows' reference is unambiguous`,
      );
    }
    const id = ids.get(key);
    if (id) {
      await client.updateCredential(id, spec);
      log(`credential ${key}: updated`);
    } else {
      const created = await client.createCredential(spec);
      ids.set(key, created.id);
      log(`credential ${key}: created`);
    }
  }
  return ids;
}

/**
 * Imports (or updates) each workflow and, with `activate`, activates it.
 *
 * n8n's public API assigns workflow ids itself (it refuses one in the body: "request/body/id
 * is read-only"), so the file's fixed id is the deployment's key: `known` maps it to the
 * id n8n gave the workflow on an earlier deployment. Without an entry, a workflow of the
 * same name is adopted (names are unique across the files), else a new one is created.
 */
export async function deployWorkflows(
  client: N8nApiClient,
  files: readonly WorkflowFile[],
  credentialIds: ReadonlyMap<string, string>,
  options: { activate: boolean; known?: Readonly<Record<string, string>>; log?: (line: string) => void },
): Promise<DeployedWorkflow[]> {
  const log = options.log ?? (() => undefined);
  const missing = referencedCredentials(files).filter(
    ({ type, name }) => !credentialIds.has(credentialKey(type, name)),
  );
  if (missing.length) {
    throw new Error(
      `the workflows reference credentials this n8n does not have: ${missing.map((m) => `${m.type} '${m.name}'`).join(", ")}; ` +
        "pass them as credentials of the WorkflowSet (or create them in n8n)",
    );
  }
  const deployed: DeployedWorkflow[] = [];
  for (const { file, workflow } of files) {
    const body = toApiWorkflow(workflow, credentialIds);
    const knownId = options.known?.[workflow.id];
    let current = knownId ? await client.getWorkflow(knownId) : null;
    if (!current) {
      const sameName = (await client.listWorkflows({ name: workflow.name })).filter(
        (w) => w.name === workflow.name,
      );
      if (sameName.length > 1) {
        throw new Error(
          `n8n has ${sameName.length} workflows named '${workflow.name}' (${sameName.map((w) => w.id).join(", ")}): ` +
            `delete the extra ones so ${file} updates the right one`,
        );
      }
      current = sameName[0] ?? null;
    }
    let saved;
    if (current) {
      saved = await client.updateWorkflow(current.id, body);
      log(`workflow ${workflow.id} (${file}): updated n8n workflow ${saved.id}`);
    } else {
      saved = await client.createWorkflow(body);
      log(`workflow ${workflow.id} (${file}): created n8n workflow ${saved.id}`);
    }
    if (options.activate) {
      try {
        saved = await client.activateWorkflow(saved.id);
      } catch (error) {
        if (error instanceof N8nApiError) {
          throw new Error(`activating ${file} (${saved.id}) failed: ${error.message}`, { cause: error });
        }
        throw error;
      }
      if (!saved.active) throw new Error(`n8n did not activate ${file} (${saved.id}); see n8n's log`);
      log(`workflow ${workflow.id} (${file}): active`);
    }
    deployed.push({
      fileId: workflow.id,
      id: saved.id,
      name: saved.name,
      file,
      versionId: saved.versionId ?? "",
      active: saved.active,
    });
  }
  return deployed;
}

/** Deactivates and deletes workflows (those already gone are skipped). */
export async function removeWorkflows(client: N8nApiClient, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const current = await client.getWorkflow(id);
    if (!current) continue;
    if (current.active) await client.deactivateWorkflow(id);
    // Deactivation finishes in the background: n8n answers 409 until it has.
    for (let attempt = 1; ; attempt++) {
      try {
        await client.deleteWorkflow(id);
        break;
      } catch (error) {
        if (!(error instanceof N8nApiError && error.status === 409) || attempt >= 20) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * Math.min(attempt, 4)));
      }
    }
  }
}
