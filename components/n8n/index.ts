export {
  N8nApiClient,
  N8nApiError,
  type N8nApiCredential,
  type N8nApiWorkflow,
  type N8nCredentialSpec,
} from "../../lib/n8n/api-client.ts";
export { deployWorkflows, ensureCredentials, removeWorkflows, type DeployedWorkflow } from "../../lib/n8n/deploy.ts";
export {
  ALLOWED_NODE_TYPES,
  duplicateWebhookPaths,
  loadWorkflowFiles,
  referencedCredentials,
  workflowProblems,
  type N8nWorkflow,
  type WorkflowFile,
} from "../../lib/n8n/workflow-files.ts";
export { WorkflowSet, type WorkflowSetArgs } from "./workflow-set.ts";
