/**
 * Dynamic providers whose code lives in ordinary project modules.
 *
 * Pulumi serializes a dynamic provider's methods into the state and runs them in a
 * separate Node process that the engine starts (`pulumi-resource-pulumi-nodejs`, plain
 * `node`: none of the project's `nodeargs`, no NODE_OPTIONS from our scripts). Closures
 * over imported modules do not serialize under ESM, so the serialized provider is this
 * thin shim. Each method, on first use in that process:
 *
 *  1. finds the project root (`AIWB_ROOT`, else the working directory the engine started
 *     the plugin in, which is the project directory under the CLI);
 *  2. registers tsx's ESM loader there (`tsx/esm`), so plain Node can import TypeScript
 *     (type stripping alone refuses parameter properties, which several modules use);
 *  3. imports the registry through the package import `#workbench-providers`
 *     (package.json `imports`) and asks it for the provider registered under a stable name.
 *
 * So the state holds a name, never a file path: implementation modules can move, and a
 * state written by one clone works from another. See provider-registry.ts for the rule on
 * retiring names.
 *
 * Upgrading states written before the registry: the engine keeps a resource's outputs
 * (with the serialized provider it was created with) until the resource is updated, and
 * deletes run that provider. The old one imported a file path and needed tsx preloaded,
 * which the CLI does not do. So when the old outputs carry such a provider, `diff` reports
 * a change and `update` only rewrites the outputs with this provider, without running
 * the implementation's update when the implementation itself sees no change. One `up`
 * after the upgrade migrates every resource; later previews show no changes.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ProviderName } from "./provider-registry.ts";

type Provider = pulumi.dynamic.ResourceProvider;

/** The package import (package.json `imports`) that names the registry module. */
export const REGISTRY_IMPORT = "#workbench-providers";

/** @param name the provider's stable name in components/shared/provider-registry.ts */
export function projectProvider(name: ProviderName): Provider {
  // Everything the serialized methods use is a string or is imported inside them.
  const registryImport = REGISTRY_IMPORT;
  const load = async (): Promise<Provider> => {
    // `import()` is spelled inside a string: test runners (vitest) rewrite the syntax
    // into a helper bound to their own module graph, which cannot be serialized.
    const importModule = new Function("specifier", "return import(specifier)") as (
      specifier: string,
    ) => Promise<Record<string, unknown>>;
    const { createRequire } = (await importModule("node:module")) as unknown as typeof import("node:module");
    const { pathToFileURL } = (await importModule("node:url")) as unknown as typeof import("node:url");
    const { join } = (await importModule("node:path")) as unknown as typeof import("node:path");
    const root = process.env["AIWB_ROOT"] ?? process.cwd();
    const fromRoot = createRequire(join(root, "package.json"));
    const resolveFromRoot = (specifier: string): string => {
      try {
        return pathToFileURL(fromRoot.resolve(specifier)).href;
      } catch (error) {
        throw new Error(
          `dynamic provider '${name}': cannot resolve '${specifier}' from the project root ${root} ` +
            "(run Pulumi from the project directory, or set AIWB_ROOT to it; then npm ci)",
          { cause: error },
        );
      }
    };
    const processState = globalThis as { __workbenchTsx?: Promise<unknown> };
    // One loader per process, however many providers and methods run in it.
    processState.__workbenchTsx ??= importModule(resolveFromRoot("tsx/esm"));
    await processState.__workbenchTsx;
    const registry = (await importModule(resolveFromRoot(registryImport))) as {
      loadProvider(name: string): Promise<Provider>;
    };
    return registry.loadProvider(name);
  };
  /** Outputs written by a provider that does not load through the registry. */
  const legacyOutputs = (olds: Record<string, unknown>): boolean =>
    typeof olds["__provider"] === "string" && !olds["__provider"].includes(registryImport);
  return {
    async check(olds, news) {
      const impl = await load();
      return impl.check ? impl.check(olds, news) : { inputs: news };
    },
    async diff(id, olds, news) {
      const impl = await load();
      const result = impl.diff ? await impl.diff(id, olds, news) : {};
      return result.changes !== true && legacyOutputs(olds) ? { ...result, changes: true } : result;
    },
    async create(inputs) {
      return (await load()).create(inputs);
    },
    async read(id, props) {
      const impl = await load();
      return impl.read ? impl.read(id, props) : { id, props };
    },
    async update(id, olds, news) {
      const impl = await load();
      if (legacyOutputs(olds) && impl.diff && (await impl.diff(id, olds, news)).changes === false) {
        // Only the serialized provider changes: keep the outputs, the engine stores this provider.
        const { __provider: _legacy, ...outs } = olds;
        return { outs };
      }
      if (!impl.update) throw new Error(`dynamic provider '${name}' cannot update in place`);
      return impl.update(id, olds, news);
    },
    async delete(id, props) {
      const impl = await load();
      if (impl.delete) await impl.delete(id, props);
    },
  };
}
