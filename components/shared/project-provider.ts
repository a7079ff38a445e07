/**
 * Dynamic providers whose code lives in ordinary project modules.
 *
 * Pulumi serializes a dynamic provider's methods into the state and runs them in a
 * separate Node process. Closures over imported modules (pg, node:crypto, our own
 * helpers) do not serialize under ESM, so the serialized provider is a thin shim: each
 * method imports the named implementation module at run time, from the project root
 * (`AIWB_ROOT`, else the working directory the engine started the plugin in), and
 * delegates. The implementation stays a normal module that tests import directly, and
 * state written by one clone of the repo still works from another.
 *
 * The provider process must be able to load TypeScript: the scripts run the engine
 * with NODE_OPTIONS=--import=<tsx loader> (see stacks/workspace.ts).
 *
 * The price of loading at run time: an implementation export must outlive every state
 * that still holds resources of its type. Retiring a resource type means keeping its
 * `delete` until the stacks that used it have removed those resources.
 */
import type * as pulumi from "@pulumi/pulumi";

type Provider = pulumi.dynamic.ResourceProvider;

/**
 * @param modulePath path of the implementation module, relative to the project root
 * @param exportName the export holding a `pulumi.dynamic.ResourceProvider`
 */
export function projectProvider(modulePath: string, exportName: string): Provider {
  const load = async (): Promise<Provider> => {
    // `import()` is spelled inside a string: test runners (vitest) rewrite the syntax
    // into a helper bound to their own module graph, which cannot be serialized.
    const importModule = new Function("specifier", "return import(specifier)") as (
      specifier: string,
    ) => Promise<Record<string, unknown>>;
    const { pathToFileURL } = (await importModule("node:url")) as unknown as typeof import("node:url");
    const { join } = (await importModule("node:path")) as unknown as typeof import("node:path");
    const root = process.env["AIWB_ROOT"] ?? process.cwd();
    const loaded = (await importModule(pathToFileURL(join(root, modulePath)).href)) as Record<
      string,
      Provider
    >;
    const implementation = loaded[exportName];
    if (!implementation) throw new Error(`${modulePath} has no export '${exportName}'`);
    return implementation;
  };
  return {
    async check(olds, news) {
      const impl = await load();
      return impl.check ? impl.check(olds, news) : { inputs: news };
    },
    async diff(id, olds, news) {
      const impl = await load();
      return impl.diff ? impl.diff(id, olds, news) : {};
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
      if (!impl.update) throw new Error(`${modulePath}#${exportName} cannot update in place`);
      return impl.update(id, olds, news);
    },
    async delete(id, props) {
      const impl = await load();
      if (impl.delete) await impl.delete(id, props);
    },
  };
}
