/**
 * The credentials the workflows' webhooks authenticate with: one per workflow, so each can
 * be rotated or revoked on its own. Pure; the stack supplies the secret values.
 *
 * - The four token webhooks take the header {@link WEBHOOK_TOKEN_HEADER} with their own
 *   token (an `httpHeaderAuth` credential named after the webhook's path).
 * - pipeline-trigger takes the caller's Supabase access token (`Authorization: Bearer`),
 *   verified by n8n with the project's JWT secret (a `jwtAuth` credential): the caller's
 *   identity comes from the signed token, never from the body.
 */
import type { N8nCredentialSpec } from "./api-client.ts";

/** The header the token webhooks read. */
export const WEBHOOK_TOKEN_HEADER = "X-Workbench-Token";

/** Webhook paths that authenticate with a token of their own. */
export const TOKEN_WEBHOOKS = [
  "expense-approval",
  "odoo-sync",
  "quality-alerts",
  "scout-transactions",
] as const;
export type TokenWebhook = (typeof TOKEN_WEBHOOKS)[number];

/** The credential name a token webhook's node references. */
export function webhookTokenCredentialName(path: TokenWebhook): string {
  return `Workbench Webhook Token (${path})`;
}

/** The credential name the pipeline-trigger webhook references. */
export const PIPELINE_TRIGGER_JWT_CREDENTIAL = "Workbench Pipeline Trigger JWT";

/** How the signed tokens pipeline-trigger accepts are checked. */
export interface PipelineTriggerJwt {
  /** The Supabase project's JWT secret (HS256), which signs its users' access tokens. */
  secret: string;
}

/**
 * The webhook credentials, in a stable order: pipeline-trigger's JWT, then one token per
 * token webhook. Throws when a token is missing or too short to resist guessing.
 */
export function webhookCredentialSpecs(
  tokens: Readonly<Record<TokenWebhook, string>>,
  jwt: PipelineTriggerJwt,
): N8nCredentialSpec[] {
  if (jwt.secret.length < 32) {
    throw new Error(
      `the pipeline-trigger JWT secret has ${jwt.secret.length} characters; Supabase's JWT secret has at least 32`,
    );
  }
  const specs: N8nCredentialSpec[] = [
    {
      name: PIPELINE_TRIGGER_JWT_CREDENTIAL,
      type: "jwtAuth",
      data: { keyType: "passphrase", secret: jwt.secret, algorithm: "HS256" },
    },
  ];
  for (const path of TOKEN_WEBHOOKS) {
    const token = tokens[path];
    if (typeof token !== "string" || token.length < 24) {
      throw new Error(
        `the ${path} webhook token must have at least 24 characters (got ${typeof token === "string" ? token.length : "none"})`,
      );
    }
    specs.push({
      name: webhookTokenCredentialName(path),
      type: "httpHeaderAuth",
      data: { name: WEBHOOK_TOKEN_HEADER, value: token },
    });
  }
  return specs;
}
