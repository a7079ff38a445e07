/**
 * A test stand-in for the Pulumi Node.js language host (`pulumi-language-nodejs`), used by
 * the CLI tests only, and only where the official host is not installed (the Go module
 * proxy reachable here refuses its module). Real machines use the official host that
 * ships with the Pulumi CLI.
 *
 * It mirrors the official host (pulumi/pulumi `sdk/nodejs/cmd/pulumi-language-nodejs/main.go`),
 * read, not copied:
 *  - `main`: serve `LanguageRuntime` on a kernel-chosen port, print the port, take the engine
 *    address as the first positional argument;
 *  - `Run` / `execRuntime` / `constructArguments` / `constructConfig`: the same argv for
 *    `@pulumi/pulumi/cmd/run` (`--monitor --engine --organization --project --root-directory
 *    --stack --pwd [--dry-run] --parallel <entry point> <args>`), `nodeargs` before it,
 *    `PULUMI_CONFIG` (keys as `<ns>:config:<name>`), `PULUMI_CONFIG_SECRET_KEYS`,
 *    `PULUMI_NODEJS_TYPESCRIPT` / `PULUMI_NODEJS_TSCONFIG_PATH` from the `typescript` /
 *    `tsconfig` options; exit code 32 means "already reported" (bail);
 *  - `locateModule`: resolve the runner with `node -e require.resolve(...)` in the program dir;
 *  - `GetRequiredPlugins` (unimplemented, as upstream), `GetRequiredPackages` /
 *    `getPackagesFromDir` / `getPackageInfo` (every node_modules package.json with
 *    `pulumi.resource`, skipping nested policy packs), `GetPluginInfo`, `Handshake`;
 *  - `RunPlugin` for policy packs (kind `analyzer`): `@pulumi/pulumi/cmd/run-policy-pack`,
 *    argv `[runPath, ...nodeargs, ...args, programDir]`, cwd = the pack's dir, the request's
 *    env only, and the `PolicyProxy` handshake (pulumi/pulumi `sdk/policy_proxy.go`): print the
 *    proxy's port, wait for `ConfigureStack`, start the pack with `PULUMI_NODEJS_*` and
 *    `PULUMI_CONFIG` from it, read the pack's port, forward every Analyzer call to it.
 *
 * Not mirrored (documented in the README): the resource-monitor proxy and the synchronous
 * invoke pipes (`--sync`; the program talks to the engine's monitor directly), tracing,
 * debugging, bun, package-manager choice in InstallDependencies (npm only), code generation.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join } from "node:path";

// The protocol modules ship in @pulumi/pulumi (generated grpc-js services and messages).
const require = createRequire(import.meta.url);
/* eslint-disable @typescript-eslint/no-explicit-any -- generated protobuf classes come untyped through require */
/** A generated protobuf message, client or stream (untyped: the classes come through require). */
type Pb = any;
const grpc = require("@grpc/grpc-js") as typeof import("@grpc/grpc-js");
const languageGrpc = require("@pulumi/pulumi/proto/language_grpc_pb.js") as any;
const languagePb = require("@pulumi/pulumi/proto/language_pb.js") as any;
const pluginPb = require("@pulumi/pulumi/proto/plugin_pb.js") as any;
const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb.js") as any;
const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb.js") as any;
const emptyPb = require("google-protobuf/google/protobuf/empty_pb.js") as any;
/* eslint-enable @typescript-eslint/no-explicit-any */

const PLUGIN_VERSION = (require("@pulumi/pulumi/package.json") as { version: string }).version;
const BAIL_EXIT_CODE = 32;

type Callback<T> = (error: Error | null, value?: T) => void;
interface Unary<Req> {
  request: Req;
}

// ---- options (parseOptions) ------------------------------------------------------------

export interface NodeOptions {
  typescript: boolean;
  tsconfigpath: string;
  nodeargs: string;
}

export function parseOptions(options: Record<string, unknown>): NodeOptions {
  const parsed: NodeOptions = { typescript: true, tsconfigpath: "", nodeargs: "" };
  if ("typescript" in options) {
    if (typeof options["typescript"] !== "boolean") throw new Error("typescript option must be a boolean");
    parsed.typescript = options["typescript"];
  }
  if ("tsconfig" in options) {
    if (typeof options["tsconfig"] !== "string") throw new Error("tsconfigpath option must be a string");
    parsed.tsconfigpath = options["tsconfig"];
  }
  if ("nodeargs" in options) {
    if (typeof options["nodeargs"] !== "string") throw new Error("nodeargs option must be a string");
    parsed.nodeargs = options["nodeargs"];
  }
  return parsed;
}

/** Shell-style word splitting (quotes and backslashes), as upstream's shlex.Split. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === "\\" && quote === '"' && i + 1 < text.length) word = (word ?? "") + text[++i];
      else word = (word ?? "") + ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= "";
    } else if (ch === "\\" && i + 1 < text.length) {
      word = (word ?? "") + text[++i];
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + ch;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} in nodeargs: ${text}`);
  if (word !== undefined) words.push(word);
  return words;
}

/** `<ns>:<name>` → `<ns>:config:<name>` (constructConfig). */
export function configForRuntime(config: Map<string, string> | [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of config) {
    const parts = key.split(":");
    const [namespace, name] =
      parts.length === 3 && parts[1] === "config"
        ? [parts[0], parts[2]]
        : [parts[0], parts.slice(1).join(":")];
    if (!namespace || !name) throw new Error(`invalid config key '${key}'`);
    out[`${namespace}:config:${name}`] = value;
  }
  return out;
}

// ---- locating modules and node (locateModule) ------------------------------------------

function nodeBinary(): string {
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    const candidate = join(dir, "node");
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error("could not find node on the $PATH");
}

function locateModule(module: string, programDir: string, node: string, isPlugin: boolean): string {
  const install = isPlugin ? `npm install in ${programDir}` : "pulumi install";
  const script =
    `try { console.log(require.resolve(${JSON.stringify(module)})); } catch (error) {` +
    ` if (error.code === 'MODULE_NOT_FOUND') { console.error("It looks like the Pulumi SDK has not been installed. Have you run ${install}?"); }` +
    ` else { console.error(error.message); } process.exit(1); }`;
  const result = spawnSync(node, ["-e", script], { cwd: programDir, encoding: "utf8" });
  if (result.status !== 0) throw new Error(result.stderr || `cannot resolve ${module}`);
  return result.stdout.trim();
}

// ---- GetRequiredPackages (getPackagesFromDir / getPackageInfo) -------------------------

interface PackageJson {
  name?: string;
  version?: string;
  pulumi?: { resource?: boolean; name?: string; version?: string; server?: string };
}

export interface RequiredPackage {
  name: string;
  version: string;
  server: string;
}

function isPolicyPack(dir: string): boolean {
  return existsSync(join(dir, "PulumiPolicy.yaml")) || existsSync(join(dir, "PulumiPolicy.yml"));
}

export function requiredPackages(
  dir: string,
  inNodeModules = false,
  visited = new Set<string>(),
): RequiredPackage[] {
  const real = realpathSync(dir);
  if (visited.has(real)) return [];
  visited.add(real);
  const found: RequiredPackage[] = [];
  for (const entry of readdirSync(real, { withFileTypes: true })) {
    const path = join(real, entry.name);
    let isDir = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      try {
        isDir = statSync(path).isDirectory();
      } catch {
        continue;
      }
    }
    if (isDir) {
      if (isPolicyPack(path)) continue;
      found.push(
        ...requiredPackages(
          path,
          inNodeModules || entry.name === "node_modules" || real.endsWith("/node_modules"),
          visited,
        ),
      );
    } else if (inNodeModules && entry.name === "package.json") {
      let info: PackageJson;
      try {
        info = JSON.parse(readFileSync(path, "utf8")) as PackageJson;
      } catch {
        continue;
      }
      if (!info.pulumi?.resource) continue;
      const name =
        info.pulumi.name || (info.name?.startsWith("@pulumi/") ? info.name.slice("@pulumi/".length) : "");
      const version = info.pulumi.version || info.version || "";
      if (!name || !version) continue;
      found.push({
        name,
        version: version.startsWith("v") ? version : `v${version}`,
        server: info.pulumi.server ?? "",
      });
    }
  }
  return found;
}

// ---- the language runtime service ------------------------------------------------------

class LanguageHost {
  engineAddress: string;
  private readonly children = new Set<ChildProcess>();

  constructor(engineAddress: string) {
    this.engineAddress = engineAddress;
  }

  handshake(call: Unary<Pb>, callback: Callback<unknown>): void {
    this.engineAddress = call.request.getEngineAddress();
    callback(null, new languagePb.LanguageHandshakeResponse());
  }

  getRequiredPlugins(_call: unknown, callback: Callback<unknown>): void {
    callback({
      code: grpc.status.UNIMPLEMENTED,
      details: "method GetRequiredPlugins not implemented",
    } as never);
  }

  getRequiredPackages(call: Unary<Pb>, callback: Callback<unknown>): void {
    const response = new languagePb.GetRequiredPackagesResponse();
    let packages: RequiredPackage[] = [];
    try {
      packages = requiredPackages(call.request.getInfo().getProgramDirectory());
    } catch (error) {
      process.stderr.write(`one or more errors while discovering plugins: ${String(error)}\n`);
    }
    response.setPackagesList(
      packages.map((found) => {
        const dependency = new pluginPb.PackageDependency();
        dependency.setName(found.name);
        dependency.setKind("resource");
        dependency.setVersion(found.version);
        dependency.setServer(found.server);
        return dependency;
      }),
    );
    callback(null, response);
  }

  getPluginInfo(_call: unknown, callback: Callback<unknown>): void {
    const info = new pluginPb.PluginInfo();
    info.setVersion(PLUGIN_VERSION);
    callback(null, info);
  }

  about(_call: unknown, callback: Callback<unknown>): void {
    const response = new languagePb.AboutResponse();
    const node = nodeBinary();
    response.setExecutable(node);
    response.setVersion(spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim());
    callback(null, response);
  }

  getProgramDependencies(_call: unknown, callback: Callback<unknown>): void {
    callback(null, new languagePb.GetProgramDependenciesResponse());
  }

  cancel(_call: unknown, callback: Callback<unknown>): void {
    for (const child of this.children) child.kill("SIGINT");
    callback(null, new emptyPb.Empty());
  }

  run(call: Unary<Pb>, callback: Callback<unknown>): void {
    const respond = (error: string, bail = false) => {
      const response = new languagePb.RunResponse();
      response.setError(error);
      response.setBail(bail);
      callback(null, response);
    };
    try {
      const req = call.request;
      const info = req.getInfo();
      const programDir: string = info.getProgramDirectory();
      const node = nodeBinary();
      const runPath = locateModule(
        process.env["PULUMI_LANGUAGE_NODEJS_RUN_PATH"] || "@pulumi/pulumi/cmd/run",
        programDir,
        node,
        false,
      );
      const options = parseOptions((info.getOptions()?.toJavaScript() ?? {}) as Record<string, unknown>);
      const args = [runPath];
      const flag = (name: string, value: string) => {
        if (value) args.push(`--${name}`, value);
      };
      flag("monitor", req.getMonitorAddress());
      flag("engine", this.engineAddress);
      flag("organization", req.getOrganization());
      flag("project", req.getProject());
      flag("root-directory", info.getRootDirectory());
      flag("stack", req.getStack());
      flag("pwd", programDir);
      if (req.getDryrun()) args.push("--dry-run");
      flag("parallel", String(req.getParallel()));
      args.push(info.getEntryPoint(), ...req.getArgsList());

      const env: NodeJS.ProcessEnv = {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(configForRuntime(req.getConfigMap().toArray())),
        PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(req.getConfigsecretkeysList()),
      };
      if (options.typescript) env["PULUMI_NODEJS_TYPESCRIPT"] = "true";
      if (options.tsconfigpath) env["PULUMI_NODEJS_TSCONFIG_PATH"] = options.tsconfigpath;

      const child = spawn(node, [...splitWords(options.nodeargs), ...args], {
        env,
        stdio: ["ignore", "inherit", "inherit"],
      });
      this.children.add(child);
      child.on("error", (error) => {
        this.children.delete(child);
        respond(`Problem executing program (could not run language executor): ${error.message}`);
      });
      child.on("exit", (code, signal) => {
        this.children.delete(child);
        if (code === 0) respond("");
        else if (code === BAIL_EXIT_CODE) respond("", true);
        else respond(`Program exited with non-zero exit code: ${code ?? signal}`);
      });
    } catch (error) {
      respond(error instanceof Error ? error.message : String(error));
    }
  }

  /** RunPlugin: policy packs (kind `analyzer`) and other Node.js plugins. */
  runPlugin(call: Pb): void {
    const send = (kind: "stdout" | "stderr", chunk: Buffer | string) => {
      const response = new languagePb.RunPluginResponse();
      if (kind === "stdout") response.setStdout(Buffer.from(chunk));
      else response.setStderr(Buffer.from(chunk));
      call.write(response);
    };
    const fail = (message: string) =>
      call.destroy(Object.assign(new Error(message), { code: grpc.status.UNKNOWN }));
    void (async () => {
      const req = call.request;
      const info = req.getInfo();
      const programDir: string = info.getProgramDirectory();
      const isAnalyzer = req.getKind() === "analyzer";
      const node = nodeBinary();
      const options = parseOptions((info.getOptions()?.toJavaScript() ?? {}) as Record<string, unknown>);
      const env: string[] = [...req.getEnvList()];
      if (options.typescript) env.push("PULUMI_NODEJS_TYPESCRIPT=true");
      if (options.tsconfigpath) env.push(`PULUMI_NODEJS_TSCONFIG_PATH=${options.tsconfigpath}`);
      const runPath = locateModule(
        isAnalyzer
          ? "@pulumi/pulumi/cmd/run-policy-pack"
          : process.env["PULUMI_LANGUAGE_NODEJS_RUN_PATH"] || "@pulumi/pulumi/cmd/run-plugin",
        programDir,
        node,
        true,
      );
      // Upstream places nodeargs after the runner's path for plugins (RunPlugin), unlike Run.
      const args = [runPath, ...splitWords(options.nodeargs)];
      if (isAnalyzer) args.push(...req.getArgsList(), programDir);
      else args.push(programDir, ...req.getArgsList());

      let proxy: PolicyProxy | undefined;
      if (isAnalyzer) {
        proxy = await PolicyProxy.start();
        send("stdout", `${proxy.port}\n`);
        const config = await proxy.configuration;
        if (config) {
          const add = (key: string, value: string) => {
            if (value) env.push(`${key}=${value}`);
          };
          add("PULUMI_NODEJS_ORGANIZATION", config.getOrganization());
          add("PULUMI_NODEJS_PROJECT", config.getProject());
          add("PULUMI_NODEJS_STACK", config.getStack());
          add("PULUMI_NODEJS_DRY_RUN", String(config.getDryRun()));
          add("PULUMI_CONFIG", JSON.stringify(Object.fromEntries(config.getConfigMap().toArray())));
        }
      }
      const child = spawn(node, args, {
        cwd: isAnalyzer ? programDir : req.getPwd(),
        env: Object.fromEntries(
          env.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]),
        ),
        stdio: ["ignore", "pipe", "pipe"],
      });
      this.children.add(child);
      child.stderr.on("data", (chunk: Buffer) => send("stderr", chunk));
      if (proxy) proxy.attach(child, (chunk) => send("stdout", chunk));
      else child.stdout.on("data", (chunk: Buffer) => send("stdout", chunk));
      child.on("error", (error) =>
        fail(`Problem executing plugin program (could not run language executor): ${error.message}`),
      );
      child.on("exit", (code) => {
        this.children.delete(child);
        proxy?.close();
        if (code === 0) call.end();
        else fail(`Program exited with non-zero exit code: ${code}`);
      });
    })().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
  }

  /** InstallDependencies: `npm install` in the directory (upstream picks the package manager). */
  installDependencies(call: Pb): void {
    const directory: string = call.request.getInfo()?.getProgramDirectory() || call.request.getDirectory();
    const child = spawn("npm", ["install", "--no-audit", "--no-fund"], {
      cwd: directory,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const send = (kind: "stdout" | "stderr") => (chunk: Buffer) => {
      const response = new languagePb.InstallDependenciesResponse();
      if (kind === "stdout") response.setStdout(chunk);
      else response.setStderr(chunk);
      call.write(response);
    };
    child.stdout.on("data", send("stdout"));
    child.stderr.on("data", send("stderr"));
    child.on("exit", (code) =>
      code === 0 ? call.end() : call.destroy(new Error(`npm install failed with exit code ${code}`)),
    );
  }
}

// ---- PolicyProxy (pulumi/pulumi sdk/policy_proxy.go) -----------------------------------

class PolicyProxy {
  private client: Pb;
  private clientReady!: (client: Pb) => void;
  private clientFailed!: (error: Error) => void;
  private readonly clientPromise = new Promise<Pb>((resolve, reject) => {
    this.clientReady = resolve;
    this.clientFailed = reject;
  });
  private configured!: (config: Pb) => void;
  /** The engine's ConfigureStack request, or null when another call came first. */
  readonly configuration = new Promise<Pb>((resolve) => (this.configured = resolve));
  private stackConfig: Pb;
  private readonly server: import("@grpc/grpc-js").Server;
  readonly port: number;

  // Plain fields, no parameter properties: Node runs this file with type stripping only.
  private constructor(server: import("@grpc/grpc-js").Server, port: number) {
    this.server = server;
    this.port = port;
  }

  static async start(): Promise<PolicyProxy> {
    const server = new grpc.Server();
    // eslint-disable-next-line prefer-const -- assigned once the server is bound; the handlers read it later
    let proxy: PolicyProxy | undefined;
    const forward =
      (method: string) =>
      (call: Unary<unknown>, callback: Callback<unknown>): void => {
        const target = proxy as PolicyProxy;
        target.configured(null);
        target.clientPromise.then(
          (client) =>
            client[method](call.request, (error: Error | null, value: unknown) => callback(error, value)),
          (error: Error) => callback(error),
        );
      };
    server.addService(analyzerGrpc.AnalyzerService, {
      handshake: (_call: unknown, callback: Callback<unknown>) =>
        callback(null, new analyzerPb.AnalyzerHandshakeResponse()),
      configureStack: (call: Unary<unknown>, callback: Callback<unknown>) => {
        (proxy as PolicyProxy).stackConfig = call.request;
        (proxy as PolicyProxy).configured(call.request);
        callback(null, new analyzerPb.AnalyzerStackConfigureResponse());
      },
      analyze: forward("analyze"),
      analyzeStack: forward("analyzeStack"),
      remediate: forward("remediate"),
      getAnalyzerInfo: forward("getAnalyzerInfo"),
      getPluginInfo: forward("getPluginInfo"),
      configure: forward("configure"),
      cancel: forward("cancel"),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    proxy = new PolicyProxy(server, port);
    return proxy;
  }

  /** Reads the pack's port from its stdout, connects, replays ConfigureStack; the rest of stdout goes on. */
  attach(child: ChildProcess, onStdout: (chunk: Buffer) => void): void {
    let buffered = "";
    let attached = false;
    child.stdout?.on("data", (chunk: Buffer) => {
      if (attached) return onStdout(chunk);
      buffered += chunk.toString("utf8");
      const newline = buffered.indexOf("\n");
      if (newline < 0) return;
      attached = true;
      const port = Number(buffered.slice(0, newline).trim());
      const rest = buffered.slice(newline + 1);
      if (rest) onStdout(Buffer.from(rest));
      if (!Number.isInteger(port) || port <= 0) {
        this.clientFailed(new Error(`could not read policy pack port from '${buffered.slice(0, newline)}'`));
        return;
      }
      const Client = grpc.makeGenericClientConstructor(analyzerGrpc.AnalyzerService, "Analyzer");
      this.client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      if (!this.stackConfig) return this.clientReady(this.client);
      this.client.configureStack(this.stackConfig, (error: (Error & { code?: number }) | null) => {
        if (error && error.code !== grpc.status.UNIMPLEMENTED) {
          this.clientFailed(new Error(`policy pack configuration failed: ${error.message}`));
        } else {
          this.clientReady(this.client);
        }
      });
    });
    child.on("exit", () => this.clientFailed(new Error("policy pack not started")));
  }

  close(): void {
    this.client?.close();
    this.server.forceShutdown();
  }
}

// ---- main --------------------------------------------------------------------------------

function main(argv: string[]): void {
  const positional = argv.filter((arg) => !arg.startsWith("-"));
  if (argv.includes("-version") || argv.includes("--version")) {
    process.stdout.write(`${PLUGIN_VERSION}\n`);
    return;
  }
  const host = new LanguageHost(positional[0] ?? "");
  const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
  const bind = (method: (...args: Pb[]) => void) =>
    method.bind(host) as import("@grpc/grpc-js").UntypedHandleCall;
  server.addService(languageGrpc.LanguageRuntimeService, {
    handshake: bind(host.handshake),
    getRequiredPlugins: bind(host.getRequiredPlugins),
    getRequiredPackages: bind(host.getRequiredPackages),
    run: bind(host.run),
    getPluginInfo: bind(host.getPluginInfo),
    installDependencies: bind(host.installDependencies),
    about: bind(host.about),
    getProgramDependencies: bind(host.getProgramDependencies),
    runPlugin: bind(host.runPlugin),
    cancel: bind(host.cancel),
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      process.stderr.write(`could not start language host RPC server: ${error.message}\n`);
      process.exit(1);
    }
    process.stdout.write(`${port}\n`);
  });
}

if (process.argv[1] && isAbsolute(process.argv[1]) && process.argv[1].endsWith("server.ts"))
  main(process.argv.slice(2));
