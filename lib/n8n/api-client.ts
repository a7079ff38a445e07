/**
 * A small client for n8n's public REST API (`/api/v1`, header `X-N8N-API-KEY`): the calls
 * the workflow deployment needs. Errors name the call, n8n's answer and what to do.
 */

export interface N8nApiWorkflow {
  id: string;
  name: string;
  active: boolean;
  versionId?: string;
  activeVersionId?: string | null;
  nodes: unknown[];
  connections: unknown;
  settings?: Record<string, unknown> | null;
}

export interface N8nApiCredential {
  id: string;
  name: string;
  type: string;
}

export interface N8nCredentialSpec {
  /** The name the workflows reference. */
  name: string;
  /** n8n credential type, e.g. `postgres`, `httpHeaderAuth`. */
  type: string;
  /** The credential's fields (n8n's schema for the type: GET /credentials/schema/{type}). */
  data: Record<string, unknown>;
}

export class N8nApiError extends Error {
  constructor(
    message: string,
    public readonly status: number,
  ) {
    super(message);
    this.name = "N8nApiError";
  }
}

type Fetch = typeof fetch;

export class N8nApiClient {
  private readonly base: string;

  /**
   * @param url n8n's base URL (`https://n8n.example.com`); `/api/v1` is appended
   * @param apiKey an API key of a user who owns the workflows (n8n Settings > n8n API)
   */
  constructor(
    url: string,
    private readonly apiKey: string,
    private readonly fetchImpl: Fetch = fetch,
    private readonly timeoutMs = 30_000,
  ) {
    this.base = `${url.replace(/\/+$/, "")}/api/v1`;
  }

  private async call<T>(method: string, path: string, body?: unknown, allow404 = false): Promise<T | null> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers: {
          "X-N8N-API-KEY": this.apiKey,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new N8nApiError(
        `n8n API ${method} ${path}: cannot reach ${this.base} (${(error as Error).message}); check the URL and that n8n is running`,
        0,
      );
    }
    if (allow404 && response.status === 404) return null;
    const text = await response.text();
    if (!response.ok) {
      let detail = text.slice(0, 500);
      try {
        const parsed = JSON.parse(text) as { message?: string };
        if (parsed.message) detail = parsed.message;
      } catch {
        // not JSON: keep the text
      }
      const hint =
        response.status === 401 || response.status === 403
          ? "; the API key is wrong, expired or lacks the scope: create one in n8n (Settings > n8n API)"
          : "";
      throw new N8nApiError(
        `n8n API ${method} ${path} answered ${response.status}: ${detail}${hint}`,
        response.status,
      );
    }
    return (text === "" ? null : JSON.parse(text)) as T;
  }

  private async list<T>(path: string): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const separator = path.includes("?") ? "&" : "?";
      const page = (await this.call<{ data: T[]; nextCursor?: string | null }>(
        "GET",
        `${path}${separator}limit=250${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      )) ?? { data: [] };
      items.push(...page.data);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return items;
  }

  /** Workflows, optionally only those with exactly this name. */
  listWorkflows(filter: { name?: string } = {}): Promise<N8nApiWorkflow[]> {
    const query = filter.name
      ? `?name=${encodeURIComponent(filter.name)}&excludePinnedData=true`
      : "?excludePinnedData=true";
    return this.list<N8nApiWorkflow>(`/workflows${query}`);
  }

  /** The workflow, or null when n8n has none with this id. */
  getWorkflow(id: string): Promise<N8nApiWorkflow | null> {
    return this.call<N8nApiWorkflow>(
      "GET",
      `/workflows/${encodeURIComponent(id)}?excludePinnedData=true`,
      undefined,
      true,
    );
  }

  async createWorkflow(body: Record<string, unknown>): Promise<N8nApiWorkflow> {
    return (await this.call<N8nApiWorkflow>("POST", "/workflows", body)) as N8nApiWorkflow;
  }

  async updateWorkflow(id: string, body: Record<string, unknown>): Promise<N8nApiWorkflow> {
    return (await this.call<N8nApiWorkflow>(
      "PUT",
      `/workflows/${encodeURIComponent(id)}`,
      body,
    )) as N8nApiWorkflow;
  }

  /** Publishes the current version and activates its triggers (webhooks, schedules). */
  async activateWorkflow(id: string): Promise<N8nApiWorkflow> {
    return (await this.call<N8nApiWorkflow>(
      "POST",
      `/workflows/${encodeURIComponent(id)}/activate`,
      {},
    )) as N8nApiWorkflow;
  }

  async deactivateWorkflow(id: string): Promise<void> {
    await this.call("POST", `/workflows/${encodeURIComponent(id)}/deactivate`, {}, true);
  }

  async deleteWorkflow(id: string): Promise<void> {
    await this.call("DELETE", `/workflows/${encodeURIComponent(id)}`, undefined, true);
  }

  listCredentials(): Promise<N8nApiCredential[]> {
    return this.list<N8nApiCredential>("/credentials");
  }

  async createCredential(spec: N8nCredentialSpec): Promise<N8nApiCredential> {
    return (await this.call<N8nApiCredential>("POST", "/credentials", spec)) as N8nApiCredential;
  }

  async updateCredential(id: string, spec: N8nCredentialSpec): Promise<N8nApiCredential> {
    return (await this.call<N8nApiCredential>(
      "PATCH",
      `/credentials/${encodeURIComponent(id)}`,
      spec,
    )) as N8nApiCredential;
  }

  async deleteCredential(id: string): Promise<void> {
    await this.call("DELETE", `/credentials/${encodeURIComponent(id)}`, undefined, true);
  }
}
