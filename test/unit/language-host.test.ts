/**
 * The pure parts of the test stand-in for the Node.js language host
 * (test/support/language-host/server.ts), against what the official host does
 * (pulumi/pulumi sdk/nodejs/cmd/pulumi-language-nodejs/main.go). The whole host is
 * exercised through the real CLI in test/integration/pulumi-cli.test.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../lib/paths.ts";
import {
  configForRuntime,
  parseOptions,
  requiredPackages,
  splitWords,
} from "../support/language-host/server.ts";

describe("the language-host stand-in", () => {
  it("reads runtime options like parseOptions: typescript defaults to true, wrong types are refused", () => {
    expect(parseOptions({})).toEqual({ typescript: true, tsconfigpath: "", nodeargs: "" });
    expect(parseOptions({ typescript: false, nodeargs: "--import=tsx" })).toEqual({
      typescript: false,
      tsconfigpath: "",
      nodeargs: "--import=tsx",
    });
    expect(() => parseOptions({ typescript: "no" })).toThrow("typescript option must be a boolean");
    expect(() => parseOptions({ nodeargs: 1 })).toThrow("nodeargs option must be a string");
  });

  it("splits nodeargs like a shell (shlex.Split)", () => {
    expect(splitWords(" --import=tsx  --max-old-space-size=4096 ")).toEqual([
      "--import=tsx",
      "--max-old-space-size=4096",
    ]);
    expect(splitWords(`--title "a b" 'c d' e\\ f`)).toEqual(["--title", "a b", "c d", "e f"]);
    expect(() => splitWords(`--title "a b`)).toThrow('unterminated " in nodeargs');
  });

  it("hands config to the runtime as <ns>:config:<name>, like constructConfig", () => {
    expect(
      configForRuntime([
        ["workbench:profile", "local"],
        ["aws:config:region", "x"],
      ]),
    ).toEqual({ "workbench:config:profile": "local", "aws:config:region": "x" });
    expect(() => configForRuntime([["noNamespace", "x"]])).toThrow("invalid config key 'noNamespace'");
  });

  it("reports every installed package with a Pulumi resource plugin, at its version, like getPackagesFromDir", () => {
    const found = requiredPackages(REPO_ROOT);
    const version = (name: string) =>
      `v${(JSON.parse(readFileSync(join(REPO_ROOT, "node_modules/@pulumi", name, "package.json"), "utf8")) as { version: string }).version}`;
    for (const name of ["digitalocean", "kubernetes", "postgresql", "random"]) {
      expect(found).toContainEqual(expect.objectContaining({ name, version: version(name) }));
    }
    // @pulumi/pulumi and @pulumi/policy are SDKs, not resource plugins.
    expect(found.map((entry) => entry.name)).not.toContain("pulumi");
    expect(found.map((entry) => entry.name)).not.toContain("policy");
  });
});
