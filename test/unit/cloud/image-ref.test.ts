import { describe, expect, it } from "vitest";
import { imagePinProblem, parseImageReference } from "../../../components/cloud/image-ref.ts";

describe("image references", () => {
  it("parses registry, repository, tag and digest", () => {
    expect(parseImageReference("registry.digitalocean.com/ai-workbench/api:0.1.0")).toEqual({
      registry: "registry.digitalocean.com",
      repository: "ai-workbench/api",
      tag: "0.1.0",
    });
    expect(parseImageReference("localhost:5000/api:1")).toEqual({
      registry: "localhost:5000",
      repository: "api",
      tag: "1",
    });
    expect(parseImageReference("redis")).toEqual({ repository: "redis" });
    expect(parseImageReference(`postgres:17.5-alpine@sha256:${"c".repeat(64)}`)).toEqual({
      repository: "postgres",
      tag: "17.5-alpine",
      digest: `sha256:${"c".repeat(64)}`,
    });
    expect(parseImageReference("Bad Image")).toBeUndefined();
  });

  it.each([
    ["redis:7.4.2-alpine", undefined],
    [`redis@sha256:${"d".repeat(64)}`, undefined],
    ["redis", "has no tag: pin a version (e.g. :1.2.3) or a digest"],
    ["redis:latest", 'uses the floating tag "latest": pin a version or a digest'],
    ["n8nio/n8n:stable", 'uses the floating tag "stable": pin a version or a digest'],
    ["not an image", "is not a valid image reference"],
  ])("%s -> %s", (reference, problem) => {
    expect(imagePinProblem(reference)).toBe(problem);
  });
});
