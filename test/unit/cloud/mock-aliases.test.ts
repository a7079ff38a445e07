/**
 * The mocks resolve each alias the SDK sends (a URN, or a spec whose blanks default to the
 * resource's own name, type, parent, stack and project) to the URN the engine would look up:
 * the upgrade tests rely on it. Checked against pulumi.createUrn.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, promiseOf } from "../../helpers/pulumi-mocks.ts";

const mocks = await installMocks({ stack: "aliases", project: "ai-workbench" });

class Holder extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:index:Holder", name, {}, opts);
    this.registerOutputs({});
  }
}

describe("alias resolution in the mocks", () => {
  let expected: Record<string, string>;

  beforeAll(async () => {
    const before = new Holder("before");
    const after = new Holder("after");
    new Holder("moved", {
      parent: after,
      aliases: [
        { parent: before },
        { name: "renamed" },
        { parent: pulumi.rootStackResource },
        { type: "test:index:OldHolder", stack: "elsewhere", project: "other" },
        "urn:pulumi:aliases::ai-workbench::test:index:Holder::given",
      ],
    });
    await mocks.settle();
    expected = {
      underBefore: await promiseOf(pulumi.createUrn("moved", "test:index:Holder", before)),
      renamed: await promiseOf(pulumi.createUrn("renamed", "test:index:Holder", after)),
      atRoot: await promiseOf(pulumi.createUrn("moved", "test:index:Holder")),
    };
  });

  it("resolves specs and URNs to the URNs the engine would look up", () => {
    const moved = mocks.one("test:index:Holder", "moved");
    expect(moved.aliases).toEqual([
      expected["underBefore"],
      expected["renamed"],
      expected["atRoot"],
      // Another stack and project: the engine builds the URN from them and the parent's type.
      "urn:pulumi:elsewhere::other::test:index:Holder$test:index:OldHolder::moved",
      "urn:pulumi:aliases::ai-workbench::test:index:Holder::given",
    ]);
  });
});
