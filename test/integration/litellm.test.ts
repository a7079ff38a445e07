/**
 * The LiteLLM gateway in the real proxy (the pinned litellm[proxy] from the cached venv),
 * called the way a caller reaches it, including a caller trying its luck:
 * - config.yaml is what the prod stack renders from Pulumi.prod.yaml, with only the endpoints
 *   changed (every provider's api_base at a loopback stub, a private redis-server); the proxy
 *   runs with as many workers as the Deployment, sharing one /metrics;
 * - callers hold keys issued the way an operator issues them (private.llm_issue_key) in a
 *   scratch workbench database, which also receives the usage rows and budget reservations.
 *
 * Limits that would make the file slow are per caller (a key with 2 rpm), not changes to the
 * config. The timeout tests run a second proxy whose only difference is shorter timeouts.
 * Every test uses its own prompt (responses are cached).
 */
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { execa } from "execa";
import YAML from "yaml";
import { applyMigrations, loadMigrations } from "../../lib/postgres/migrations.ts";
import { LITELLM_PUBLIC_PATHS } from "../../components/kubernetes/litellm.ts";
import {
  DEFAULT_ALIAS,
  GATEWAY_DEFAULTS,
  type GatewaySettings,
} from "../../components/kubernetes/litellm-config.ts";
import { USAGE_DATABASE_URL_ENV } from "../../lib/litellm/gateway.ts";
import { litellmVenvDir, pinnedLiteLlmVersion } from "../../lib/litellm/venv.ts";
import { REPO_ROOT } from "../../lib/paths.ts";
import {
  createUsageLogin,
  type Gateway,
  installLiteLlm,
  makeWorkDir,
  type RedisServer,
  startGateway,
  startRedis,
  type UsageLogin,
  withoutEndpoints,
} from "../helpers/litellm-harness.ts";
import { type LlmStubs, startLlmStubs, stubAnswer, STUB_USAGE } from "../helpers/llm-stubs.ts";
import { installMocks } from "../helpers/pulumi-mocks.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../lib/postgres/scratch-database.ts";
import { cloudDataSources, prodConfig } from "../unit/cloud/prod-config.ts";

const PRIMARY = "anthropic/claude-sonnet-4-5-20250929";
const FIRST_FALLBACK = "openai/gpt-4o-mini";
const SECOND_FALLBACK = "gemini/gemini-2.5-flash";
/** The prod stack's gateway settings (Pulumi.prod.yaml's workbench:llm). */
const PROD_SETTINGS: GatewaySettings = prodConfig().llm;
/** Seed 001's Claude Sonnet 4.5 price, $3 / $15 per 1M tokens, for the stubs' 12 + 8 tokens. */
const PRIMARY_COST = (STUB_USAGE.promptTokens * 3 + STUB_USAGE.completionTokens * 15) / 1_000_000;

let db: ScratchDatabase;
let work: ReturnType<typeof makeWorkDir>;
let stubs: LlmStubs;
let redis: RedisServer;
let gateway: Gateway;
let venv: string;
/** The gateway's database login (a member of workbench_usage_recorder only), never the admin. */
let usage: UsageLogin;

interface Caller {
  id: string;
  name: string;
  key: string;
  userId?: string;
}

/** Issues a caller key as an operator does (private.llm_issue_key). */
async function issueCaller(
  kind: "service" | "agent" | "user",
  options: { rpm?: number; tpm?: number; dailyBudgetUsd?: number } = {},
): Promise<Caller> {
  const name = `${kind}-${randomUUID().slice(0, 8)}`;
  let userId: string | undefined;
  if (kind === "user") {
    const [user] = await db.query<{ id: string }>("insert into auth.users (email) values ($1) returning id", [
      `${name}@example.com`,
    ]);
    userId = user?.id;
  }
  const [row] = await db.query<{ key: string }>(
    "select private.llm_issue_key($1, $2, $3, $4, $5, $6) as key",
    [name, kind, userId ?? null, options.rpm ?? null, options.tpm ?? null, options.dailyBudgetUsd ?? null],
  );
  const [caller] = await db.query<{ id: string }>("select id from private.llm_callers where name = $1", [
    name,
  ]);
  return { id: caller?.id as string, name, key: row?.key as string, ...(userId ? { userId } : {}) };
}

/** An agent run with its agent's budget, started by `triggeredBy` (a workbench user) if given. */
async function newRun(budgetUsd: number, triggeredBy?: string): Promise<string> {
  const [agent] = await db.query<{ id: string }>(
    "insert into ip_workbench.agents (name, model, budget_usd) values ($1, $2, $3) returning id",
    [`agent ${randomUUID()}`, PRIMARY, budgetUsd],
  );
  const [run] = await db.query<{ id: string }>(
    "insert into ip_workbench.agent_runs (agent_id, status, input_prompt, triggered_by) values ($1, 'running', 'test', $2) returning id",
    [agent?.id, triggeredBy ?? null],
  );
  return run?.id as string;
}

let service: Caller;

beforeAll(async () => {
  venv = await installLiteLlm();
  db = await createScratchDatabase("litellm");
  await applyMigrations(db.connection, loadMigrations(join(REPO_ROOT, "sql/migrations")));
  usage = await createUsageLogin(db.connection);
  work = makeWorkDir("litellm");
  stubs = await startLlmStubs();
  redis = await startRedis(work.dir);
  gateway = await startGateway({
    venv,
    dir: work.dir,
    settings: PROD_SETTINGS,
    endpoints: {
      redis: { host: "127.0.0.1", port: redis.port },
      apiBase: {
        anthropic: stubs.anthropic.apiBase,
        openai: stubs.openai.apiBase,
        gemini: stubs.gemini.apiBase,
      },
    },
    redisPassword: redis.password,
    env: { [USAGE_DATABASE_URL_ENV]: usage.url },
  });
  service = await issueCaller("service");
});

afterAll(async () => {
  await gateway?.stop();
  await redis?.stop();
  await stubs?.close();
  await usage?.drop();
  await db?.drop();
  work?.remove();
});

beforeEach(() => stubs.resetAll());

interface Completion {
  status: number;
  headers: Headers;
  body: {
    id?: string;
    model?: string;
    choices?: { message: { content: string } }[];
    usage?: { prompt_tokens: number; completion_tokens: number };
    error?: { message: string; type: string; code: string; param?: string };
  };
  ms: number;
}

async function complete(
  prompt: string,
  options: {
    key?: string | null;
    metadata?: Record<string, unknown>;
    model?: string;
    extra?: Record<string, unknown>;
    headers?: Record<string, string>;
    url?: string;
  } = {},
): Promise<Completion> {
  const started = Date.now();
  const key = options.key === undefined ? service.key : options.key;
  const response = await fetch(`${options.url ?? gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      "content-type": "application/json",
      ...options.headers,
    },
    body: JSON.stringify({
      model: options.model ?? DEFAULT_ALIAS,
      messages: [{ role: "user", content: prompt }],
      ...(options.metadata ? { metadata: options.metadata } : {}),
      ...options.extra,
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
  it("runs the config.yaml the prod stack deploys: equal apart from the endpoints (Redis, each provider's api_base)", async () => {
    // The prod stack from Pulumi.prod.yaml under Pulumi mocks: its LiteLLM ConfigMap.
    const mocks = await installMocks({ stack: "prod", calls: cloudDataSources });
    const { cloudPlatform } = await import("../../stacks/cloud/index.ts");
    cloudPlatform(prodConfig());
    await mocks.settle();
    const configMap = mocks.one("kubernetes:core/v1:ConfigMap", "litellm-config");
    const deployed = configMap.inputs["data"]["config.yaml"] as string;
    expect(withoutEndpoints(gateway.configYaml)).toEqual(withoutEndpoints(deployed));
    // The endpoints are the only difference, and the stubs are what this proxy reaches.
    const ran = YAML.parse(gateway.configYaml) as {
      model_list: { litellm_params: { model: string; api_base?: string } }[];
    };
    expect(
      ran.model_list.map((entry) => [entry.litellm_params.model, entry.litellm_params.api_base]),
    ).toEqual([
      [PRIMARY, stubs.anthropic.apiBase],
      [FIRST_FALLBACK, stubs.openai.apiBase],
      [SECOND_FALLBACK, stubs.gemini.apiBase],
      ["gemini/gemini-2.5-flash-lite", stubs.gemini.apiBase],
    ]);
    // The Python modules the proxy loads are the ones the ConfigMap mounts beside config.yaml.
    for (const file of ["workbench_common.py", "workbench_auth.py", "workbench_usage.py"]) {
      expect(configMap.inputs["data"][file]).toBe(
        (await import("node:fs")).readFileSync(join(work.dir, file), "utf8"),
      );
    }
  });

  it("runs the venv scripts/install-litellm built (the script and lib/litellm/venv.ts key it alike)", async () => {
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
    // The stub got an Anthropic Messages request with the dummy key, not the caller's key,
    // and the gateway's default max_tokens (the request set none).
    const [received] = stubs.anthropic.requests;
    expect(received?.headers["x-api-key"]).toBe("test-anthropic_api_key");
    expect(received?.body).toMatchObject({
      model: "claude-sonnet-4-5-20250929",
      messages: [{ role: "user" }],
      max_tokens: GATEWAY_DEFAULTS.defaultMaxTokens,
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
    // num_retries 2 (seed 004: 3 attempts): three tries at the primary before the fallback.
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

  it("a caller's own limit (a key with 2 rpm): the next request gets 429 whatever it claims, other callers are served", async () => {
    const limited = await issueCaller("service", { rpm: 2 });
    for (let i = 0; i < 2; i += 1)
      expect((await complete(`limited ${i}`, { key: limited.key })).status).toBe(200);
    const over = await complete("limited over", { key: limited.key });
    expect(over.status).toBe(429);
    expect(over.body.error?.message).toMatch(/rate limit/i);
    // Naming another user does not get it a fresh bucket: the user is the key's, not the request's.
    const rotated = await complete("limited rotated", { key: limited.key, extra: { user: randomUUID() } });
    expect(rotated.status).toBe(400);
    expect(rotated.body.error?.message).toContain("user is set by the gateway from your key");
    expect(requestsSeen().anthropic).toBe(2);
    // LiteLLM's limiter (parallel_request_limiter_v3) counts per caller id in the shared Redis.
    expect(await redis.cli("exists", `{user:${limited.id}}:requests`)).toBe("1");
    expect((await complete("another caller")).status).toBe(200);
  });

  it("the same prompt twice from one caller: the second is a cache hit from Redis and never reaches the provider", async () => {
    const first = await complete("cache me");
    const second = await complete("cache me");
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body.id).toBe(first.body.id);
    expect(requestsSeen()).toEqual({ anthropic: 1, openai: 0, gemini: 0 });
    const cacheKey = second.headers.get("x-litellm-cache-key");
    expect(cacheKey).toBeTruthy();
    expect(await redis.cli("exists", cacheKey as string)).toBe("1");
  });

  it("identity: no key, a wrong key, a revoked key and the master key are refused before any provider call", async () => {
    const noKey = await complete("no key", { key: null });
    expect(noKey.status).toBe(401);
    const wrong = await complete("wrong key", { key: "sk-wrong" });
    expect(wrong.status).toBe(401);
    const unknown = await complete("unknown key", { key: `wbk_${"0".repeat(64)}` });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error?.message).toContain("unknown or revoked caller key");
    // The operator's master key opens no model: it names no caller.
    const master = await complete("master key", { key: gateway.masterKey });
    expect(master.status).toBe(403);
    // Issue, use, revoke: the next request with the revoked key is refused.
    const caller = await issueCaller("service");
    expect((await complete("before revoke", { key: caller.key })).status).toBe(200);
    const [revoked] = await db.query<{ n: number }>("select private.llm_revoke_keys($1) as n", [caller.name]);
    expect(revoked?.n).toBe(1);
    const after = await complete("after revoke", { key: caller.key });
    expect(after.status).toBe(401);
    expect(requestsSeen()).toEqual({ anthropic: 1, openai: 0, gemini: 0 });
    // Only the key's hash is stored.
    const [stored] = await db.query<{ matches: boolean; plain: number }>(
      `select bool_and(k.key_hash = sha256(convert_to($1, 'UTF8'))) as matches,
              count(*) filter (where encode(k.key_hash, 'escape') like '%' || $1 || '%')::int as plain
       from private.llm_caller_keys as k inner join private.llm_callers as c on c.id = k.caller_id
       where c.name = $2`,
      [caller.key, caller.name],
    );
    expect(stored).toEqual({ matches: true, plain: 0 });
  });

  it("identity: callers reach only the API routes; a chosen call id header is refused", async () => {
    const admin = await fetch(`${gateway.url}/key/generate`, {
      method: "POST",
      headers: { authorization: `Bearer ${service.key}`, "content-type": "application/json" },
      body: "{}",
    });
    expect(admin.status).toBe(403);
    const routes = await fetch(`${gateway.url}/routes`, {
      headers: { authorization: `Bearer ${service.key}` },
    });
    expect(routes.status).toBe(403);
    const models = await fetch(`${gateway.url}/v1/models`, {
      headers: { authorization: `Bearer ${service.key}` },
    });
    expect(models.status).toBe(200);
    const callId = await complete("chosen call id", { headers: { "x-litellm-call-id": randomUUID() } });
    expect(callId.status).toBe(400);
    expect(callId.body.error?.message).toContain("header x-litellm-call-id is not accepted");
    expect(requestsSeen()).toEqual({ anthropic: 0, openai: 0, gemini: 0 });
  });

  it("prices come only from config.yaml: per-request prices, mock_response and other knobs are refused", async () => {
    const knobs: [string, Record<string, unknown>][] = [
      ["input_cost_per_token", { input_cost_per_token: 0, output_cost_per_token: 0 }],
      ["mock_response", { mock_response: "free" }],
      ["timeout", { timeout: 600 }],
      ["num_retries", { num_retries: 10 }],
      ["fallbacks", { fallbacks: ["gpt-4o-mini"] }],
      ["api_base", { api_base: "http://127.0.0.1:9" }],
      ["litellm_metadata", { litellm_metadata: { agent_run_id: randomUUID() } }],
      ["metadata.requester_metadata", { metadata: { requester_metadata: { agent_run_id: randomUUID() } } }],
      ["cache", { cache: { namespace: "someone-else" } }],
      // An image's tokens are not bounded by the request's bytes (the worst case would not hold).
      [
        "messages",
        {
          messages: [
            {
              role: "user",
              content: [{ type: "image_url", image_url: { url: "http://127.0.0.1:9/a.png" } }],
            },
          ],
        },
      ],
    ];
    for (const [param, extra] of knobs) {
      const refused = await complete(`knob ${param}`, { extra });
      // 400 naming the field; api_base is refused even earlier, by LiteLLM's own body check (401).
      expect({ param, status: refused.status }).toEqual({ param, status: param === "api_base" ? 401 : 400 });
      expect(refused.body.error?.message).toContain(param.split(".").at(-1));
    }
    expect(requestsSeen()).toEqual({ anthropic: 0, openai: 0, gemini: 0 });
    // A normal call afterwards still costs config.yaml's price (nothing persisted in the proxy).
    const priced = await complete("priced after knobs");
    expect(priced.status).toBe(200);
    expect(Number(priced.headers.get("x-litellm-response-cost"))).toBeCloseTo(PRIMARY_COST, 12);
  });

  it("usage: each request lands in ip_workbench.llm_requests, with the key's caller and user, and rolls up per agent run", async () => {
    const alice = await issueCaller("user");
    const run = await newRun(1.0, alice.userId);
    const completions = [
      await complete("usage 1", { key: alice.key, metadata: { agent_run_id: run } }),
      await complete("usage 2", { key: alice.key, metadata: { agent_run_id: run } }),
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
        agent_run_id: run,
        user_id: alice.userId,
        caller_id: alice.id,
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
          [run],
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

  it("agents' budget per run: a call that could overrun the run's budget is refused before any provider call", async () => {
    const agent = await issueCaller("agent");
    // max_tokens 10: worst case ~$0.00033 a call; the first call fits the $0.0004 budget, its
    // cost ($0.000156) plus a second worst case does not.
    const run = await newRun(0.0004);
    const first = await complete("budget 1", {
      key: agent.key,
      metadata: { agent_run_id: run },
      extra: { max_tokens: 10 },
    });
    expect(first.status).toBe(200);
    await eventually(
      () =>
        db.query("select 1 from ip_workbench.llm_requests where agent_run_id = $1 and status = 'success'", [
          run,
        ]),
      "the first call's cost",
    );
    const second = await complete("budget 2", {
      key: agent.key,
      metadata: { agent_run_id: run },
      extra: { max_tokens: 10 },
    });
    expect(second.status).toBe(400);
    expect(second.body.error?.type).toBe("budget_exceeded");
    expect(second.body.error?.message).toContain(
      `agent run ${run} has $0.000156 spent or reserved of its $0.000400 budget`,
    );
    expect(requestsSeen().anthropic).toBe(1);

    const unknown = await complete("budget unknown run", {
      key: agent.key,
      metadata: { agent_run_id: randomUUID() },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error?.message).toMatch(/agent run .* does not exist/);
  });

  it("a caller's daily budget keys on the caller: its next call is refused once spent and reserved would pass it", async () => {
    // Worst case of a max_tokens 10 call ~$0.00033: one fits $0.0004 a day, a second does not.
    const capped = await issueCaller("service", { dailyBudgetUsd: 0.0004 });
    const first = await complete("daily 1", { key: capped.key, extra: { max_tokens: 10 } });
    expect(first.status).toBe(200);
    await eventually(
      () =>
        db.query("select 1 from ip_workbench.llm_requests where caller_id = $1 and status = 'success'", [
          capped.id,
        ]),
      "the first call's cost",
    );
    const second = await complete("daily 2", { key: capped.key, extra: { max_tokens: 10 } });
    expect(second.status).toBe(400);
    expect(second.body.error?.type).toBe("budget_exceeded");
    expect(second.body.error?.message).toContain(
      `caller '${capped.name}' today has $0.000156 spent or reserved`,
    );
    // Another caller is not affected.
    expect((await complete("daily other caller", { extra: { max_tokens: 10 } })).status).toBe(200);
    expect(requestsSeen().anthropic).toBe(2);
  });

  it("agent traffic must name its run; max_tokens above the cap is refused; both before any provider call", async () => {
    const agent = await issueCaller("agent");
    const noRun = await complete("agent without run", { key: agent.key });
    expect(noRun.status).toBe(400);
    expect(noRun.body.error?.message).toContain(`agent caller '${agent.name}' must name its run`);
    const tooMany = await complete("too many tokens", {
      extra: { max_tokens: GATEWAY_DEFAULTS.maxTokens + 1 },
    });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error?.message).toContain(
      `max_tokens ${GATEWAY_DEFAULTS.maxTokens + 1} is above this gateway's cap of ${GATEWAY_DEFAULTS.maxTokens}`,
    );
    expect(requestsSeen()).toEqual({ anthropic: 0, openai: 0, gemini: 0 });
  });

  it("budgets hold under concurrency: 30 parallel calls of one run never spend past its budget", async () => {
    const agent = await issueCaller("agent", { rpm: 1000, tpm: 1_000_000 });
    const budget = 0.0015; // about 9.6 calls' real cost, about 3-4 calls' worst case
    const run = await newRun(budget);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        complete(`parallel ${i}`, {
          key: agent.key,
          metadata: { agent_run_id: run },
          extra: { max_tokens: 10 },
        }),
      ),
    );
    const served = results.filter((result) => result.status === 200);
    const refused = results.filter((result) => result.status !== 200);
    expect(served.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const result of refused) expect(result.body.error?.type).toBe("budget_exceeded");
    // Refused calls never reached a provider.
    expect(requestsSeen().anthropic).toBe(served.length);
    const rows = await eventually(async () => {
      const found = await db.query<{ n: number; spent: string }>(
        `select count(*)::int as n, sum(cost_usd) as spent from ip_workbench.llm_requests
           where agent_run_id = $1 and status = 'success'`,
        [run],
      );
      return found[0]?.n === served.length ? found : [];
    }, "a usage row per served call");
    expect(Number(rows[0]?.spent)).toBeCloseTo(served.length * PRIMARY_COST, 12);
    expect(Number(rows[0]?.spent)).toBeLessThanOrEqual(budget);
    // Every reservation was settled.
    await eventually(
      async () =>
        (
          await db.query<{ n: number }>(
            "select count(*)::int as n from private.llm_budget_reservations where agent_run_id = $1",
            [run],
          )
        ).filter((row) => row.n === 0),
      "no reservation left",
    );
  });

  it("the cache is scoped by caller and agent run: user B never receives user A's answer unless both opt in", async () => {
    const [alice, bob] = [await issueCaller("user"), await issueCaller("user")];
    const prompt = "what is my private balance?";
    const a = await complete(prompt, { key: alice.key });
    const aAgain = await complete(prompt, { key: alice.key });
    const b = await complete(prompt, { key: bob.key });
    expect([a.status, aAgain.status, b.status]).toEqual([200, 200, 200]);
    expect(aAgain.body.id).toBe(a.body.id); // A's own cache
    expect(b.body.id).not.toBe(a.body.id); // B got its own answer from the provider
    expect(requestsSeen().anthropic).toBe(2);
    // Another run of the same caller does not share it either.
    const run = await newRun(1.0, alice.userId);
    const aInRun = await complete(prompt, { key: alice.key, metadata: { agent_run_id: run } });
    expect(aInRun.body.id).not.toBe(a.body.id);
    expect(requestsSeen().anthropic).toBe(3);
    // A user's key cannot spend (or read the cache of) a run another user started.
    const [bobsRun] = await db.query<{ id: string }>(
      "insert into ip_workbench.agent_runs (status, input_prompt, triggered_by) values ('running', 'bob', $1) returning id",
      [bob.userId],
    );
    const foreign = await complete(prompt, { key: alice.key, metadata: { agent_run_id: bobsRun?.id } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error?.message).toContain("was started by another user");
    expect(requestsSeen().anthropic).toBe(3);
    // An explicit opt-in on both sides shares answers.
    const shared = "a public question";
    const sharedA = await complete(shared, { key: alice.key, metadata: { cache_scope: "shared" } });
    const sharedB = await complete(shared, { key: bob.key, metadata: { cache_scope: "shared" } });
    expect(sharedB.body.id).toBe(sharedA.body.id);
    expect(requestsSeen().anthropic).toBe(4);
  });

  it("a stream the provider cuts mid-way ends with an error to the client and is recorded as failed", async () => {
    async function stream(prompt: string): Promise<{ events: string[]; callId: string }> {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${service.key}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: DEFAULT_ALIAS,
          messages: [{ role: "user", content: prompt }],
          stream: true,
        }),
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      const events = text
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice("data: ".length));
      return { events, callId: response.headers.get("x-litellm-call-id") as string };
    }
    const rowOf = (callId: string, status: string) =>
      eventually(
        () =>
          db.query<{ status: string }>(
            "select status from ip_workbench.llm_requests where request_id = $1 and status = $2",
            [callId, status],
          ),
        `llm_requests row ${status} for ${callId}`,
      );

    const whole = await stream("stream whole");
    expect(whole.events.at(-1)).toBe("[DONE]");
    await rowOf(whole.callId, "success");

    stubs.anthropic.behave({ kind: "truncate" });
    const cut = await stream("stream cut");
    expect(cut.events).not.toContain("[DONE]");
    const last = JSON.parse(cut.events.at(-1) as string) as { error?: { type: string; message: string } };
    expect(last.error?.type).toBe("stream_truncated");
    await rowOf(cut.callId, "error");
    // Whatever order the callbacks ran in, the call has no success row.
    expect(
      await db.query("select 1 from ip_workbench.llm_requests where request_id = $1 and status = 'success'", [
        cut.callId,
      ]),
    ).toEqual([]);
  });

  // Reads the counters the requests above left (a fallback served by GPT-4o-mini, a 429).
  it("the gateway reaches the database only as the usage login (a member of workbench_usage_recorder only, nothing in private)", async () => {
    const [role] = await db.query<{ flags: string; groups: string[]; privateUsage: boolean }>(
      `select concat_ws(',', r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb) as flags,
         array(select g.rolname::text from pg_auth_members as m join pg_roles as g on g.oid = m.roleid
               where m.member = r.oid order by 1) as groups,
         has_schema_privilege(r.oid, 'private', 'usage') as "privateUsage"
       from pg_roles as r where r.rolname = $1`,
      [usage.name],
    );
    expect(role).toEqual({ flags: "f,f,f,f", groups: ["workbench_usage_recorder"], privateUsage: false });
    // By now the gateway has looked keys up, reserved, settled and recorded: every session it
    // holds to this database is the usage login's.
    const sessions = await db.query<{ usename: string }>(
      `select distinct usename::text from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
    );
    expect(sessions.map((s) => s.usename)).toEqual([usage.name]);
  });

  it("Prometheus metrics on /metrics from every worker: no user, caller, key hash or provider address in them", async () => {
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
    const callers = await db.query<{ id: string; user_id: string | null }>(
      "select id, user_id from private.llm_callers",
    );
    for (const caller of callers) {
      expect(text).not.toContain(caller.id);
      if (caller.user_id) expect(text).not.toContain(caller.user_id);
    }
    expect(text).not.toMatch(/\b(end_user|user|user_email|hashed_api_key|api_key_alias|team|api_base)="/);
    for (const stub of [stubs.anthropic, stubs.openai, stubs.gemini])
      expect(text).not.toContain(stub.apiBase);
  });

  it("only the API is public: the Ingress paths are the API routes a caller uses, and none of the internal endpoints", async () => {
    const openapi = (await (await fetch(`${gateway.url}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    for (const path of LITELLM_PUBLIC_PATHS) expect(Object.keys(openapi.paths)).toContain(path);
    // Exact paths: nothing under them, nothing beside them.
    const published = (path: string) => (LITELLM_PUBLIC_PATHS as readonly string[]).includes(path);
    for (const internal of [
      "/metrics",
      "/openapi.json",
      "/docs",
      "/routes",
      "/debug/asyncio-tasks",
      "/health",
      "/health/readiness",
      "/key/generate",
      "/model/info",
      "/",
    ]) {
      expect({ internal, published: published(internal) }).toEqual({ internal, published: false });
    }
    // The internal endpoints answer inside the cluster (so the Ingress, not the proxy, keeps them in).
    expect((await fetch(`${gateway.url}/debug/asyncio-tasks`)).status).toBe(200);
  });
});

describe("LiteLLM gateway timeouts (the same config with 2 s per attempt and 4 s in all)", () => {
  let short: Gateway;
  let shortWork: ReturnType<typeof makeWorkDir>;
  const TIMEOUT = 2;
  const TOTAL = 4;

  beforeAll(async () => {
    shortWork = makeWorkDir("litellm-short");
    short = await startGateway({
      venv,
      dir: shortWork.dir,
      settings: { ...PROD_SETTINGS, timeoutSeconds: TIMEOUT, totalTimeoutSeconds: TOTAL },
      endpoints: {
        redis: { host: "127.0.0.1", port: redis.port },
        apiBase: {
          anthropic: stubs.anthropic.apiBase,
          openai: stubs.openai.apiBase,
          gemini: stubs.gemini.apiBase,
        },
      },
      redisPassword: redis.password,
      env: { [USAGE_DATABASE_URL_ENV]: usage.url },
    });
  });

  afterAll(async () => {
    await short?.stop();
    shortWork?.remove();
  });

  it("the primary stalls past the timeout: not retried, served by the first fallback", async () => {
    stubs.anthropic.behave({ kind: "stall" });
    const completion = await complete("primary stalls", { url: short.url });
    expect(completion.status).toBe(200);
    expect(completion.body.model).toBe("gpt-4o-mini");
    expect(requestsSeen()).toEqual({ anthropic: 1, openai: 1, gemini: 0 });
  });

  it("every provider stalls: the client gets an error once the total wait is used up, not retries x timeout per model", async () => {
    for (const stub of [stubs.anthropic, stubs.openai, stubs.gemini]) stub.behave({ kind: "stall" });
    const completion = await complete("all stall", { url: short.url });
    expect(completion.status).toBe(408);
    // One attempt at the primary (a timeout is not retried), one at the first fallback with
    // what was left of the 4 s, and none at the second: the deadline had passed. Without the
    // deadline: 3 tries of 2 s at each of the 3 models.
    expect(requestsSeen()).toEqual({ anthropic: 1, openai: 1, gemini: 0 });
    // The failed call's reservation was settled by the proxy's failure hook.
    const callId = completion.headers.get("x-litellm-call-id");
    expect(callId).toBeTruthy();
    await eventually(
      async () =>
        (
          await db.query<{ n: number }>(
            "select count(*)::int as n from private.llm_budget_reservations where call_id = $1",
            [callId],
          )
        ).filter((row) => row.n === 0),
      "the failed call's reservation settled",
    );
  });
});
