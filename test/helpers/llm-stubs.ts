/**
 * Loopback stand-ins for the Anthropic, OpenAI and Gemini APIs, the way LiteLLM calls them:
 * Anthropic `POST /v1/messages`, OpenAI `POST /v1/chat/completions`, Gemini
 * `POST /v1beta/models/<model>:generateContent`. Each records what it received and behaves
 * as told: answer, fail with a status (5xx, 429) in the provider's error shape, or stall.
 */
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { LlmProviderName } from "../../components/kubernetes/litellm-config.ts";

export type StubBehaviour =
  | { kind: "answer" }
  | { kind: "fail"; status: number }
  /** Hold the request without answering (until the stubs close). */
  | { kind: "stall" }
  /**
   * Answer a streamed request with a stream that ends cleanly mid-answer: some text, then
   * the end of the response body with no finish reason and no end event (Anthropic only).
   */
  | { kind: "truncate" };

export interface RecordedRequest {
  method: string;
  path: string;
  /** The model asked for (body.model, or Gemini's path segment). */
  model: string | undefined;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

/** Tokens every answer reports, so costs are predictable. */
export const STUB_USAGE = { promptTokens: 12, completionTokens: 8 } as const;

export interface LlmStub {
  provider: LlmProviderName;
  /** What LiteLLM's `api_base` for this provider must be to reach the stub. */
  apiBase: string;
  /** Requests received on the provider's completion route, oldest first. */
  requests: RecordedRequest[];
  /** Requests on any other route (should stay empty). */
  unexpected: RecordedRequest[];
  behave(behaviour: StubBehaviour): void;
  /** Back to answering, with no recorded requests. */
  reset(): void;
}

/** The text a stub answers with: names who answered. */
export function stubAnswer(provider: LlmProviderName, model: string | undefined): string {
  return `stub ${provider} answered as ${model ?? "?"}`;
}

interface Route {
  apiBasePath: string;
  /** Server-sent events of a streamed answer (the whole answer, or cut before its end). */
  stream?(model: string | undefined, truncated: boolean): string;
  match(path: string): { model: string | undefined } | undefined;
  answer(model: string | undefined): unknown;
  error(status: number): unknown;
}

const ROUTES: Record<LlmProviderName, Route> = {
  anthropic: {
    // LiteLLM appends /v1/messages to an Anthropic api_base.
    apiBasePath: "",
    match: (path) => (path === "/v1/messages" ? { model: undefined } : undefined),
    answer: (model) => ({
      id: `msg_stub_${Date.now()}`,
      type: "message",
      role: "assistant",
      model,
      content: [{ type: "text", text: stubAnswer("anthropic", model) }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: { input_tokens: STUB_USAGE.promptTokens, output_tokens: STUB_USAGE.completionTokens },
    }),
    error: (status) => ({
      type: "error",
      error: {
        type: status === 429 ? "rate_limit_error" : "api_error",
        message: `stub anthropic: status ${status}`,
      },
    }),
    stream: (model, truncated) => {
      const event = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
      const [first, rest] = ["stub anthropic ", `answered as ${model ?? "?"}`];
      const head = [
        event("message_start", {
          type: "message_start",
          message: {
            id: `msg_stub_${Date.now()}`,
            type: "message",
            role: "assistant",
            model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: STUB_USAGE.promptTokens, output_tokens: 1 },
          },
        }),
        event("content_block_start", {
          type: "content_block_start",
          index: 0,
          content_block: { type: "text", text: "" },
        }),
        event("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "text_delta", text: first },
        }),
      ];
      if (truncated) return head.join("");
      return [
        ...head,
        event("content_block_delta", {
          type: "content_block_delta",
          index: 0,
          delta: { type: "text_delta", text: rest },
        }),
        event("content_block_stop", { type: "content_block_stop", index: 0 }),
        event("message_delta", {
          type: "message_delta",
          delta: { stop_reason: "end_turn", stop_sequence: null },
          usage: { output_tokens: STUB_USAGE.completionTokens },
        }),
        event("message_stop", { type: "message_stop" }),
      ].join("");
    },
  },
  openai: {
    apiBasePath: "/v1",
    match: (path) => (path === "/v1/chat/completions" ? { model: undefined } : undefined),
    answer: (model) => ({
      id: `chatcmpl-stub-${Date.now()}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: stubAnswer("openai", model) },
          finish_reason: "stop",
        },
      ],
      usage: {
        prompt_tokens: STUB_USAGE.promptTokens,
        completion_tokens: STUB_USAGE.completionTokens,
        total_tokens: STUB_USAGE.promptTokens + STUB_USAGE.completionTokens,
      },
    }),
    error: (status) => ({
      error: {
        message: `stub openai: status ${status}`,
        type: status === 429 ? "rate_limit_exceeded" : "server_error",
        code: status === 429 ? "rate_limit_exceeded" : null,
      },
    }),
  },
  gemini: {
    // LiteLLM calls `<api_base>/models/<model>:generateContent` for a Gemini api_base.
    apiBasePath: "/v1beta",
    match: (path) => {
      const found = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(path);
      return found ? { model: found[1] } : undefined;
    },
    answer: (model) => ({
      candidates: [
        {
          content: { parts: [{ text: stubAnswer("gemini", model) }], role: "model" },
          finishReason: "STOP",
          index: 0,
        },
      ],
      usageMetadata: {
        promptTokenCount: STUB_USAGE.promptTokens,
        candidatesTokenCount: STUB_USAGE.completionTokens,
        totalTokenCount: STUB_USAGE.promptTokens + STUB_USAGE.completionTokens,
      },
      modelVersion: model,
    }),
    error: (status) => ({
      error: {
        code: status,
        message: `stub gemini: status ${status}`,
        status: status === 429 ? "RESOURCE_EXHAUSTED" : "INTERNAL",
      },
    }),
  },
};

export interface LlmStubs {
  anthropic: LlmStub;
  openai: LlmStub;
  gemini: LlmStub;
  /** Every stub back to answering, nothing recorded. */
  resetAll(): void;
  close(): Promise<void>;
}

async function readBody(request: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function startStub(provider: LlmProviderName): Promise<{ stub: LlmStub; close(): Promise<void> }> {
  const route = ROUTES[provider];
  let behaviour: StubBehaviour = { kind: "answer" };
  const sockets = new Set<Socket>();
  const stub: LlmStub = {
    provider,
    apiBase: "",
    requests: [],
    unexpected: [],
    behave: (next) => {
      behaviour = next;
    },
    reset: () => {
      behaviour = { kind: "answer" };
      stub.requests.length = 0;
      stub.unexpected.length = 0;
    },
  };

  const server = http.createServer((request, response) => {
    void (async () => {
      const path = (request.url ?? "/").split("?")[0] ?? "/";
      const body = await readBody(request);
      const matched = request.method === "POST" ? route.match(path) : undefined;
      const bodyModel =
        typeof body === "object" && body !== null ? (body as { model?: unknown }).model : undefined;
      const recorded: RecordedRequest = {
        method: request.method ?? "",
        path,
        model: matched?.model ?? (typeof bodyModel === "string" ? bodyModel : undefined),
        headers: request.headers,
        body,
      };
      const send = (status: number, payload: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(payload));
      };
      if (!matched) {
        stub.unexpected.push(recorded);
        send(404, route.error(404));
        return;
      }
      stub.requests.push(recorded);
      const current = behaviour;
      const streamed =
        typeof body === "object" && body !== null && (body as { stream?: unknown }).stream === true;
      if ((current.kind === "answer" || current.kind === "truncate") && streamed && route.stream) {
        response.writeHead(200, { "content-type": "text/event-stream" });
        response.end(route.stream(recorded.model, current.kind === "truncate"));
      } else if (current.kind === "answer" || current.kind === "truncate")
        send(200, route.answer(recorded.model));
      else if (current.kind === "fail") send(current.status, route.error(current.status));
      // stall: never answer; the socket is destroyed on close.
    })();
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  stub.apiBase = `http://127.0.0.1:${port}${route.apiBasePath}`;
  return {
    stub,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

/** Starts one stub per provider on free loopback ports. */
export async function startLlmStubs(): Promise<LlmStubs> {
  const [anthropic, openai, gemini] = await Promise.all([
    startStub("anthropic"),
    startStub("openai"),
    startStub("gemini"),
  ]);
  const all = [anthropic, openai, gemini];
  return {
    anthropic: anthropic.stub,
    openai: openai.stub,
    gemini: gemini.stub,
    resetAll: () => all.forEach((entry) => entry.stub.reset()),
    close: async () => {
      await Promise.all(all.map((entry) => entry.close()));
    },
  };
}
