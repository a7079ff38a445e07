/**
 * The LiteLLM gateway in the real proxy (the pinned litellm[proxy] from the cached venv):
 * config.yaml from the routing spec generator with every provider's api_base pointed at
 * loopback stubs, a private redis-server, and the usage recorder writing into a scratch
 * workbench database. One proxy for the whole file.
 *
 * The test config keeps the production routing (Claude Sonnet 4.5, then GPT-4o-mini, then
 * Gemini 2.5 Flash, num_retries 2) and shrinks only what would make the file slow: 2
 * requests per minute per user (so the third is over the limit), a 3 s provider timeout (so
 * a stall fails over in seconds). Every test uses its own user id (the limit is per user)
 * and its own prompt (responses are cached).
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { execa } from "execa";
import YAML from "yaml";
import { applyMigrations, loadMigrations } from "../../components/database/migrations.ts";
import { DEFAULT_ALIAS, type LiteLlmRoutingSpec } from "../../components/kubernetes/litellm-config.ts";
import { databaseFreeGateway, USAGE_DATABASE_URL_ENV } from "../../components/litellm/gateway.ts";
import { litellmVenvDir, pinnedLiteLlmVersion } from "../../components/litellm/venv.ts";
import { REPO_ROOT } from "../../stacks/paths.ts";
import {
  type Gateway,
  installLiteLlm,
  makeWorkDir,
  type RedisServer,
  startGateway,
  startRedis,
} from "../helpers/litellm-harness.ts";
import { type LlmStubs, startLlmStubs, stubAnswer, STUB_USAGE } from "../helpers/llm-stubs.ts";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/scratch-database.ts";

const PRIMARY = "anthropic/claude-sonnet-4-5-20250929";
const FIRST_FALLBACK = "openai/gpt-4o-mini";
const SECOND_FALLBACK = "gemini/gemini-2.5-flash";
const RPM_PER_USER = 2;
/** Seed 001's Claude Sonnet 4.5 price, $3 / $15 per 1M tokens, for the stubs' 12 + 8 tokens. */
const PRIMARY_COST = (STUB_USAGE.promptTokens * 3 + STUB_USAGE.completionTokens * 15) / 1_000_000;

let db: ScratchDatabase;
let work: ReturnType<typeof makeWorkDir>;
let stubs: LlmStubs;
let redis: RedisServer;
let gateway: Gateway;

beforeAll(async () => {
  const venv = await installLiteLlm();
  db = await createScratchDatabase("litellm");
  await applyMigrations(db.connection, loadMigrations(join(REPO_ROOT, "sql/migrations")));
  work = makeWorkDir("litellm");
  stubs = await startLlmStubs();
  redis = await startRedis(work.dir);
  const spec: LiteLlmRoutingSpec = databaseFreeGateway({
    primary: PRIMARY,
    fallbacks: [FIRST_FALLBACK, SECOND_FALLBACK],
    budget: "gemini/gemini-2.5-flash-lite",
    rpmPerUser: RPM_PER_USER,
    tpmPerUser: 100_000,
    cache: { host: "127.0.0.1", port: redis.port, ttlSeconds: 600 },
    langfuse: false,
    prometheus: true,
    timeoutSeconds: 3,
    apiBase: {
      anthropic: stubs.anthropic.apiBase,
      openai: stubs.openai.apiBase,
      gemini: stubs.gemini.apiBase,
    },
  });
  gateway = await startGateway({
    venv,
    dir: work.dir,
    spec,
    redisPassword: redis.password,
    env: { [USAGE_DATABASE_URL_ENV]: db.server.url(db.name) },
  });
});

afterAll(async () => {
  await gateway?.stop();
  await redis?.stop();
  await stubs?.close();
  await db?.drop();
  work?.remove();
});

beforeEach(() => stubs.resetAll());

interface Completion {
  status: number;
  headers: Headers;
  body: {
    model?: string;
    choices?: { message: { content: string } }[];
    usage?: { prompt_tokens: number; completion_tokens: number };
    error?: { message: string; type: string; code: string };
  };
  ms: number;
}

async function complete(
  prompt: string,
  options: { user?: string; metadata?: Record<string, unknown>; key?: string; model?: string } = {},
): Promise<Completion> {
  const started = Date.now();
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${options.key ?? gateway.masterKey}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({
      model: options.model ?? DEFAULT_ALIAS,
      messages: [{ role: "user", content: prompt }],
      user: options.user ?? randomUUID(),
      ...(options.metadata ? { metadata: options.metadata } : {}),
    }),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Completion["body"],
    ms: Date.now() - started,
  };
}

const answerOf = (completion: Completion) => completion.body.choices?.[0]?.message.content;
const requestsSeen = () => ({
  anthropic: stubs.anthropic.requests.length,
  openai: stubs.openai.requests.length,
  gemini: stubs.gemini.requests.length,
});

/** Polls until `read` returns rows (the usage callback writes after the response). */
async function eventually<T>(read: () => Promise<T[]>, what: string, timeoutMs = 15_000): Promise<T[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await read();
    if (rows.length > 0) return rows;
    if (Date.now() > deadline)
      throw new Error(`${what}: nothing after ${timeoutMs / 1000}s (proxy log: ${gateway.logFile})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe(`LiteLLM gateway (litellm[proxy]==${pinnedLiteLlmVersion(REPO_ROOT)}, real proxy, stub providers)`, () => {
  it("runs the generated config.yaml: api_base of each provider at its stub, the alias routed with fallbacks", () => {
    const config = YAML.parse(gateway.configYaml) as {
      model_list: { model_name: string; litellm_params: { model: string; api_base?: string } }[];
      router_settings: { fallbacks: Record<string, string[]>[] };
      general_settings: Record<string, unknown>;
    };
    expect(
      config.model_list.map((entry) => [entry.litellm_params.model, entry.litellm_params.api_base]),
    ).toEqual([
      [PRIMARY, stubs.anthropic.apiBase],
      [FIRST_FALLBACK, stubs.openai.apiBase],
      [SECOND_FALLBACK, stubs.gemini.apiBase],
      ["gemini/gemini-2.5-flash-lite", stubs.gemini.apiBase],
    ]);
    expect(config.router_settings.fallbacks).toContainEqual({
      [DEFAULT_ALIAS]: ["gpt-4o-mini", "gemini-2.5-flash"],
    });
    expect(config.general_settings["database_url"]).toBeUndefined();
  });

  it("runs the venv scripts/install-litellm built (the script and components/litellm/venv.ts key it alike)", async () => {
    const { stdout } = await execa("bash", [join(REPO_ROOT, "scripts/install-litellm"), "--print-venv"]);
    expect(stdout).toBe(litellmVenvDir(REPO_ROOT));
    const cached = await execa("bash", [join(REPO_ROOT, "scripts/install-litellm")]);
    expect(cached.stdout).toContain(`cached: ${stdout}`);
    expect(cached.stdout).toContain(`litellm ${pinnedLiteLlmVersion(REPO_ROOT)}; redis `);
  });

  it("/health/liveliness and /health/readiness answer without calling a model", async () => {
    const live = await fetch(`${gateway.url}/health/liveliness`);
    expect(live.status).toBe(200);
    const ready = await fetch(`${gateway.url}/health/readiness`);
    expect(ready.status).toBe(200);
    const readiness = (await ready.json()) as { status: string; cache: string; litellm_version: string };
    expect(readiness).toMatchObject({
      status: "healthy",
      cache: "redis",
      litellm_version: pinnedLiteLlmVersion(REPO_ROOT),
    });
    for (const stub of [stubs.anthropic, stubs.openai, stubs.gemini]) {
      expect(stub.requests).toEqual([]);
      expect(stub.unexpected).toEqual([]);
    }
  });

  it("the primary answers: served by Claude", async () => {
    const completion = await complete("primary answers");
    expect(completion.status).toBe(200);
    expect(completion.body.model).toBe("claude-sonnet-4-5-20250929");
    expect(answerOf(completion)).toBe(stubAnswer("anthropic", "claude-sonnet-4-5-20250929"));
    expect(completion.headers.get("x-litellm-model-api-base")).toBe(stubs.anthropic.apiBase);
    expect(completion.headers.get("x-litellm-attempted-fallbacks")).toBe("0");
    expect(requestsSeen()).toEqual({ anthropic: 1, openai: 0, gemini: 0 });
    // The stub got an Anthropic Messages request with the dummy key, not the gateway key.
    const [received] = stubs.anthropic.requests;
    expect(received?.headers["x-api-key"]).toBe("test-anthropic_api_key");
    expect(received?.body).toMatchObject({
      model: "claude-sonnet-4-5-20250929",
      messages: [{ role: "user" }],
    });
  });

  it.each([
    ["fails (500)", 500],
    ["rate-limits (429)", 429],
  ])("the primary %s: retried, then served by the first fallback, GPT-4o-mini", async (_label, status) => {
    stubs.anthropic.behave({ kind: "fail", status });
    const completion = await complete(`primary ${status}`);
    expect(completion.status).toBe(200);
    expect(completion.body.model).toBe("gpt-4o-mini");
    expect(answerOf(completion)).toBe(stubAnswer("openai", "gpt-4o-mini"));
    expect(completion.headers.get("x-litellm-model-api-base")).toBe(stubs.openai.apiBase);
    expect(completion.headers.get("x-litellm-attempted-fallbacks")).toBe("1");
    // num_retries 2: three tries at the primary before the fallback.
    expect(requestsSeen()).toEqual({ anthropic: 3, openai: 1, gemini: 0 });
  });

  it("the primary and the first fallback fail: served by the second, Gemini 2.5 Flash", async () => {
    stubs.anthropic.behave({ kind: "fail", status: 503 });
    stubs.openai.behave({ kind: "fail", status: 429 });
    const completion = await complete("both fail");
    expect(completion.status).toBe(200);
    expect(completion.body.model).toBe("gemini-2.5-flash");
    expect(answerOf(completion)).toBe(stubAnswer("gemini", "gemini-2.5-flash"));
    expect(completion.headers.get("x-litellm-model-api-base")).toBe(stubs.gemini.apiBase);
    expect(requestsSeen().gemini).toBe(1);
    expect(stubs.gemini.requests[0]?.headers["x-goog-api-key"]).toBe("test-gemini_api_key");
  });

  it("the primary stalls past the timeout: served by the first fallback", async () => {
    stubs.anthropic.behave({ kind: "stall" });
    const completion = await complete("primary stalls");
    expect(completion.status).toBe(200);
    expect(completion.body.model).toBe("gpt-4o-mini");
    expect(stubs.anthropic.requests.length).toBeGreaterThanOrEqual(1);
  });

  it(`the gateway's own per-user limit (${RPM_PER_USER} rpm in this config): the next request gets 429, other users are served`, async () => {
    const user = randomUUID();
    for (let i = 0; i < RPM_PER_USER; i += 1)
      expect((await complete(`limited ${i}`, { user })).status).toBe(200);
    const over = await complete("limited over", { user });
    expect(over.status).toBe(429);
    expect(over.body.error?.message).toMatch(/rate limit/i);
    expect(requestsSeen().anthropic).toBe(RPM_PER_USER);
    // LiteLLM's limiter (parallel_request_limiter_v3) counts in the shared Redis: every replica sees one count.
    expect(await redis.cli("exists", `{user:${user}}:requests`)).toBe("1");
    expect((await complete("another user", { user: randomUUID() })).status).toBe(200);
  });

  it("the same prompt twice: the second is a cache hit from Redis and never reaches the provider", async () => {
    const user = randomUUID();
    const first = await complete("cache me", { user });
    const second = await complete("cache me", { user });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(answerOf(second)).toBe(answerOf(first));
    expect(requestsSeen()).toEqual({ anthropic: 1, openai: 0, gemini: 0 });
    const cacheKey = second.headers.get("x-litellm-cache-key");
    expect(cacheKey).toBeTruthy();
    expect(await redis.cli("exists", cacheKey as string)).toBe("1");
  });

  it("a wrong gateway key gets 401 and reaches no provider", async () => {
    const completion = await complete("wrong key", { key: "sk-wrong" });
    expect(completion.status).toBe(401);
    expect(requestsSeen()).toEqual({ anthropic: 0, openai: 0, gemini: 0 });
  });

  it("usage: each request lands in ip_workbench.llm_requests and rolls up per agent run in cost_tracker", async () => {
    const [agent] = await db.query<{ id: string }>(
      "insert into ip_workbench.agents (name, model, budget_usd) values ('usage agent', $1, 1.0) returning id",
      [PRIMARY],
    );
    const [run] = await db.query<{ id: string }>(
      "insert into ip_workbench.agent_runs (agent_id, status, input_prompt) values ($1, 'running', 'usage') returning id",
      [agent?.id],
    );
    const user = randomUUID();
    const completions = [
      await complete("usage 1", { user, metadata: { agent_run_id: run?.id } }),
      await complete("usage 2", { user, metadata: { agent_run_id: run?.id } }),
    ];
    for (const completion of completions) {
      expect(completion.status).toBe(200);
      const callId = completion.headers.get("x-litellm-call-id");
      const [row] = await eventually(
        () =>
          db.query<Record<string, unknown>>("select * from ip_workbench.llm_requests where request_id = $1", [
            callId,
          ]),
        `llm_requests row for call ${callId}`,
      );
      expect(row).toMatchObject({
        agent_run_id: run?.id,
        user_id: user,
        model: PRIMARY,
        status: "success",
        prompt_tokens: STUB_USAGE.promptTokens,
        completion_tokens: STUB_USAGE.completionTokens,
      });
      expect(Number(row?.["cost_usd"])).toBeCloseTo(PRIMARY_COST, 12);
      expect(Number(row?.["cost_usd"])).toBeCloseTo(
        Number(completion.headers.get("x-litellm-response-cost")),
        12,
      );
      expect(row?.["latency_ms"]).toBeGreaterThanOrEqual(0);
      expect(row?.["latency_ms"]).toBeLessThanOrEqual(completion.ms);
    }
    const rollup = await eventually(
      () =>
        db.query<{ cost_usd: string; period: string; details: Record<string, unknown> }>(
          `select cost_usd, to_char(period, 'YYYY-MM-DD') as period, details from ip_workbench.cost_tracker
           where service = 'llm' and resource_id = $1 and (details ->> 'requests')::int = 2`,
          [run?.id],
        ),
      "cost_tracker roll-up of both requests",
    );
    expect(rollup).toHaveLength(1);
    expect(Number(rollup[0]?.cost_usd)).toBeCloseTo(2 * PRIMARY_COST, 12);
    expect(rollup[0]?.period).toBe(new Date().toISOString().slice(0, 10));
    expect(rollup[0]?.details).toEqual({
      source: "litellm",
      requests: 2,
      prompt_tokens: 2 * STUB_USAGE.promptTokens,
      completion_tokens: 2 * STUB_USAGE.completionTokens,
    });
  });

  it("usage: a fallback records the failed primary call and the served fallback", async () => {
    stubs.anthropic.behave({ kind: "fail", status: 500 });
    const completion = await complete("usage fallback");
    expect(completion.status).toBe(200);
    const callId = completion.headers.get("x-litellm-call-id") as string;
    const rows = await eventually(
      () =>
        db.query<{ request_id: string; model: string; status: string; cost_usd: string }>(
          `select request_id, model, status, cost_usd from ip_workbench.llm_requests
           where request_id like $1 || '%' and exists (
             select 1 from ip_workbench.llm_requests as s where s.request_id = $1)
           order by status desc`,
          [callId],
        ),
      `llm_requests rows for call ${callId}`,
    );
    expect(rows.map((row) => [row.model, row.status])).toEqual([
      [FIRST_FALLBACK, "success"],
      [PRIMARY, "error"],
    ]);
    expect(Number(rows[1]?.cost_usd)).toBe(0);
  });

  it("agents' budget per run: a run whose recorded cost reached agents.budget_usd is refused before any provider call", async () => {
    const [agent] = await db.query<{ id: string }>(
      "insert into ip_workbench.agents (name, model, budget_usd) values ('tight agent', $1, 0.0001) returning id",
      [PRIMARY],
    );
    const [run] = await db.query<{ id: string }>(
      "insert into ip_workbench.agent_runs (agent_id, status, input_prompt) values ($1, 'running', 'budget') returning id",
      [agent?.id],
    );
    const user = randomUUID();
    const first = await complete("budget 1", { user, metadata: { agent_run_id: run?.id } });
    expect(first.status).toBe(200);
    await eventually(
      () => db.query("select 1 from ip_workbench.llm_requests where agent_run_id = $1", [run?.id]),
      "the first call's cost",
    );
    const second = await complete("budget 2", { user, metadata: { agent_run_id: run?.id } });
    expect(second.status).toBe(400);
    expect(second.body.error?.type).toBe("budget_exceeded");
    expect(second.body.error?.message).toContain(
      `agent run ${run?.id} has spent $0.000156 of its agent's $0.000100 budget per run`,
    );
    expect(requestsSeen().anthropic).toBe(1);

    const unknown = await complete("budget unknown run", { metadata: { agent_run_id: randomUUID() } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toMatch(/agent run .* does not exist/);
  });

  // Reads the counters the requests above left (a fallback served by GPT-4o-mini, a 429).
  it("Prometheus metrics on /metrics, served by the open-source proxy with no licence", async () => {
    const response = await fetch(`${gateway.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(
      /^litellm_proxy_total_requests_metric_total\{.*requested_model="workbench-default".*\} \d/m,
    );
    expect(text).toMatch(
      /^litellm_deployment_success_responses_total\{.*litellm_model_name="gpt-4o-mini".*\} \d/m,
    );
    expect(text).toMatch(/^litellm_deployment_failure_responses_total\{.*exception_status="429".*\} \d/m);
  });
});
