/**
 * Local stand-ins for the HTTP services the n8n workflows call, on loopback ports of
 * their own, recording every request: Mattermost (incoming webhooks) and Odoo (the
 * XML-RPC external API: authenticate + execute_kw search_read on account.move).
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  at: Date;
}

export interface StubServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

type Reply = { status: number; contentType: string; body: string };
/** A reply, or a promise of one (a stub that answers late). */
type Handler = (request: RecordedRequest) => Reply | Promise<Reply>;

async function startStub(handler: Handler): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        at: new Date(),
      };
      requests.push(recorded);
      const failed = (error: unknown): Reply => ({
        status: 500,
        contentType: "text/plain",
        body: error instanceof Error ? error.message : String(error),
      });
      let pending: Promise<Reply>;
      try {
        pending = Promise.resolve(handler(recorded)).catch(failed);
      } catch (error) {
        pending = Promise.resolve(failed(error));
      }
      void pending.then((reply) => {
        if (res.destroyed) return;
        res.writeHead(reply.status, { "content-type": reply.contentType });
        res.end(reply.body);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// --- Mattermost ------------------------------------------------------------------------

export interface MattermostStub extends StubServer {
  /** The incoming-webhook URL to configure (MATTERMOST_WEBHOOK_URL). */
  webhookUrl: string;
  /** Parsed bodies of the posts to the webhook that it took, oldest first. */
  messages(): { text: string; username?: string }[];
  /** While set, every post is answered with this HTTP status (Mattermost down). */
  failWith(status: number | null): void;
  /** Answers every post this many milliseconds late (a slow Mattermost). */
  delay(ms: number): void;
}

/** Accepts posts to /hooks/<key> as Mattermost does ("ok"); anything else is 404. */
export async function startMattermostStub(key = "stub-hook-key"): Promise<MattermostStub> {
  let failing: number | null = null;
  let lateMs = 0;
  const refused = new Set<RecordedRequest>();
  const stub = await startStub(async (request) => {
    if (lateMs > 0) await new Promise((resolve) => setTimeout(resolve, lateMs));
    if (request.method === "POST" && request.path === `/hooks/${key}` && failing !== null) {
      refused.add(request);
      return { status: failing, contentType: "text/plain", body: "mattermost is unavailable" };
    }
    if (request.method === "POST" && request.path === `/hooks/${key}`) {
      const body = JSON.parse(request.body) as { text?: unknown };
      if (typeof body.text !== "string" || body.text === "") {
        return { status: 400, contentType: "application/json", body: '{"message":"text is required"}' };
      }
      return { status: 200, contentType: "text/plain", body: "ok" };
    }
    return { status: 404, contentType: "text/plain", body: "not found" };
  });
  return {
    ...stub,
    webhookUrl: `${stub.url}/hooks/${key}`,
    messages: () =>
      stub.requests
        .filter((r) => r.method === "POST" && r.path === `/hooks/${key}` && !refused.has(r))
        .map((r) => JSON.parse(r.body) as { text: string; username?: string }),
    failWith: (status) => {
      failing = status;
    },
    delay: (ms) => {
      lateMs = ms;
    },
  };
}

// --- XML-RPC -----------------------------------------------------------------------------

export type XmlRpcValue = string | number | boolean | null | XmlRpcValue[] | { [key: string]: XmlRpcValue };

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|lt|gt|amp|quot|apos);/gi, (_, entity: string) => {
    if (entity.startsWith("#x") || entity.startsWith("#X"))
      return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith("#")) return String.fromCodePoint(Number(entity.slice(1)));
    return ENTITIES[entity.toLowerCase()] ?? "";
  });
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Parses an XML-RPC methodCall (enough of the format for Odoo's clients). */
export function parseMethodCall(xml: string): { method: string; params: XmlRpcValue[] } {
  const tokens = xml.replace(/<\?xml[\s\S]*?\?>/, "").match(/<[^>]+>|[^<]+/g) ?? [];
  let i = 0;
  const skipSpace = () => {
    while (i < tokens.length && !tokens[i]!.startsWith("<") && tokens[i]!.trim() === "") i += 1;
  };
  const expect = (tag: string) => {
    skipSpace();
    if (tokens[i] !== tag)
      throw new Error(`XML-RPC: expected ${tag} at token ${i}, got ${tokens[i] ?? "end"}`);
    i += 1;
  };
  const textUntil = (close: string) => {
    let text = "";
    while (i < tokens.length && tokens[i] !== close) text += tokens[i++];
    i += 1;
    return decodeEntities(text);
  };
  const value = (): XmlRpcValue => {
    expect("<value>");
    if (tokens[i] !== undefined && !tokens[i]!.startsWith("<") && tokens[i + 1] === "</value>") {
      const text = decodeEntities(tokens[i]!);
      i += 2;
      return text;
    }
    skipSpace();
    const tag = tokens[i++];
    let result: XmlRpcValue;
    switch (tag) {
      case "<string>":
        result = textUntil("</string>");
        break;
      case "<int>":
      case "<i4>":
      case "<i8>":
      case "<double>":
        result = Number(textUntil(`</${tag.slice(1)}`));
        break;
      case "<boolean>":
        result = textUntil("</boolean>").trim() === "1";
        break;
      case "<nil/>":
        result = null;
        break;
      case "<array>": {
        const items: XmlRpcValue[] = [];
        skipSpace();
        if (tokens[i] === "<data/>") i += 1;
        else {
          expect("<data>");
          skipSpace();
          while (tokens[i] === "<value>") {
            items.push(value());
            skipSpace();
          }
          expect("</data>");
        }
        expect("</array>");
        result = items;
        break;
      }
      case "<struct>": {
        const members: Record<string, XmlRpcValue> = {};
        skipSpace();
        while (tokens[i] === "<member>") {
          i += 1;
          expect("<name>");
          const name = textUntil("</name>");
          members[name] = value();
          expect("</member>");
          skipSpace();
        }
        expect("</struct>");
        result = members;
        break;
      }
      case "</value>":
        return "";
      default:
        throw new Error(`XML-RPC: unsupported value ${tag}`);
    }
    expect("</value>");
    return result;
  };
  expect("<methodCall>");
  expect("<methodName>");
  const method = textUntil("</methodName>").trim();
  const params: XmlRpcValue[] = [];
  skipSpace();
  if (tokens[i] === "<params>") {
    i += 1;
    skipSpace();
    while (tokens[i] === "<param>") {
      i += 1;
      params.push(value());
      expect("</param>");
      skipSpace();
    }
    expect("</params>");
  }
  return { method, params };
}

export function xmlRpcValue(v: XmlRpcValue): string {
  if (v === null) return "<value><nil/></value>";
  if (Array.isArray(v)) return `<value><array><data>${v.map(xmlRpcValue).join("")}</data></array></value>`;
  if (typeof v === "object") {
    const members = Object.entries(v)
      .map(([k, x]) => `<member><name>${escapeXml(k)}</name>${xmlRpcValue(x)}</member>`)
      .join("");
    return `<value><struct>${members}</struct></value>`;
  }
  if (typeof v === "boolean") return `<value><boolean>${v ? 1 : 0}</boolean></value>`;
  if (typeof v === "number")
    return Number.isInteger(v) ? `<value><int>${v}</int></value>` : `<value><double>${v}</double></value>`;
  return `<value><string>${escapeXml(v)}</string></value>`;
}

const xmlResponse = (value: XmlRpcValue) =>
  `<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n${xmlRpcValue(value)}\n</param>\n</params>\n</methodResponse>\n`;
const xmlFault = (code: number, message: string) =>
  `<?xml version="1.0"?>\n<methodResponse><fault>${xmlRpcValue({ faultCode: code, faultString: message })}</fault></methodResponse>\n`;

// --- Odoo --------------------------------------------------------------------------------

export interface OdooStubOptions {
  db: string;
  username: string;
  apiKey: string;
  /**
   * account.move records served by search_read (tests may add to it): filtered by the
   * domain's write_date and id terms (with '|', '&', '!'), ordered by (write_date, id) as
   * text and number, cut at `limit`.
   */
  invoices: Record<string, XmlRpcValue>[];
  uid?: number;
}

/** How the stub misbehaves on execute_kw: an XML-RPC fault, an HTTP error, or no answer for a while. */
export type OdooFailure = { fault: string } | { httpStatus: number } | { delayMs: number };

export interface OdooStub extends StubServer {
  /** The records search_read serves (the options' array: tests may add to it). */
  invoices: Record<string, XmlRpcValue>[];
  /** The XML-RPC calls received, parsed. */
  calls(): { path: string; method: string; params: XmlRpcValue[] }[];
  /** While set, execute_kw misbehaves so. */
  fail(failure: OdooFailure | null): void;
}

/** Evaluates an Odoo domain (prefix notation; terms on write_date and id, others pass). */
export function matchesDomain(record: Record<string, XmlRpcValue>, domain: XmlRpcValue[]): boolean {
  let i = 0;
  const compare = (left: XmlRpcValue | undefined, op: string, right: XmlRpcValue): boolean => {
    const [a, b] = typeof right === "number" ? [Number(left), right] : [String(left ?? false), String(right)];
    switch (op) {
      case "=":
        return a === b;
      case "!=":
        return a !== b;
      case ">":
        return a > b;
      case ">=":
        return a >= b;
      case "<":
        return a < b;
      case "<=":
        return a <= b;
      default:
        return true;
    }
  };
  const next = (): boolean => {
    const term = domain[i++];
    if (term === "|") return [next(), next()].some(Boolean);
    if (term === "&") return [next(), next()].every(Boolean);
    if (term === "!") return !next();
    if (!Array.isArray(term)) throw new Error(`unsupported domain term ${JSON.stringify(term)}`);
    const [field, op, value] = term as [string, string, XmlRpcValue];
    if (field !== "write_date" && field !== "id") return true;
    return compare(record[field], op, value);
  };
  let all = true;
  while (i < domain.length) all = next() && all;
  return all;
}

/**
 * Odoo's XML-RPC endpoints: /xmlrpc/2/common authenticate (false for a wrong login, as
 * Odoo answers) and /xmlrpc/2/object execute_kw(db, uid, key, 'account.move',
 * 'search_read', [domain], {fields, order, limit}); terms of the domain on write_date and id are
 * honoured, the rest is recorded for the test to check.
 */
export async function startOdooStub(options: OdooStubOptions): Promise<OdooStub> {
  const uid = options.uid ?? 7;
  let failure: OdooFailure | null = null;
  const stub = await startStub(async (request) => {
    const xml = { status: 200, contentType: "text/xml" };
    if (request.method !== "POST") return { status: 405, contentType: "text/plain", body: "POST only" };
    const call = parseMethodCall(request.body);
    if (request.path === "/xmlrpc/2/common" && call.method === "authenticate") {
      const [db, login, key] = call.params;
      const ok = db === options.db && login === options.username && key === options.apiKey;
      return { ...xml, body: xmlResponse(ok ? uid : false) };
    }
    if (request.path === "/xmlrpc/2/object" && call.method === "execute_kw") {
      if (failure && "delayMs" in failure)
        await new Promise((resolve) =>
          setTimeout(resolve, failure && "delayMs" in failure ? failure.delayMs : 0),
        );
      else if (failure && "httpStatus" in failure)
        return {
          status: failure.httpStatus,
          contentType: "text/html",
          body: "<h1>Internal Server Error</h1>",
        };
      else if (failure && "fault" in failure) return { ...xml, body: xmlFault(1, failure.fault) };
      const [db, callerUid, key, model, method, args, kwargs] = call.params;
      if (db !== options.db || callerUid !== uid || key !== options.apiKey) {
        return { ...xml, body: xmlFault(3, "Access Denied") };
      }
      if (model !== "account.move" || method !== "search_read") {
        return {
          ...xml,
          body: xmlFault(
            2,
            `stub serves account.move search_read only, not ${String(model)}.${String(method)}`,
          ),
        };
      }
      const domain = (Array.isArray(args) && Array.isArray(args[0]) ? args[0] : []) as XmlRpcValue[];
      const kw = (kwargs ?? {}) as Record<string, XmlRpcValue>;
      const fields = kw["fields"];
      const limit = typeof kw["limit"] === "number" && kw["limit"] > 0 ? kw["limit"] : Infinity;
      const rows = options.invoices
        .filter((invoice) => matchesDomain(invoice, domain))
        .sort((a, b) => {
          const [x, y] = [String(a["write_date"] ?? false), String(b["write_date"] ?? false)];
          return x < y ? -1 : x > y ? 1 : Number(a["id"]) - Number(b["id"]);
        })
        .slice(0, limit)
        .map((invoice) =>
          Array.isArray(fields)
            ? Object.fromEntries(fields.map((f) => [String(f), invoice[String(f)] ?? false]))
            : invoice,
        );
      return { ...xml, body: xmlResponse(rows) };
    }
    return { ...xml, body: xmlFault(1, `unknown call ${request.path} ${call.method}`) };
  });
  return {
    ...stub,
    invoices: options.invoices,
    fail: (next) => {
      failure = next;
    },
    calls: () =>
      stub.requests
        .filter((r) => r.method === "POST")
        .map((r) => ({ path: r.path, ...parseMethodCall(r.body) })),
  };
}
