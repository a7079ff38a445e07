/** COPY text-format encoding of the writer's values. */
import { describe, expect, it } from "vitest";
import { copyValue } from "../../../lib/catalog/write.ts";

describe("copyValue", () => {
  it("writes null as \\N and escapes COPY's special characters", () => {
    expect(copyValue(null)).toBe("\\N");
    expect(copyValue(undefined)).toBe("\\N");
    expect(copyValue("a\tb\nc\rd\\e")).toBe("a\\tb\\nc\\rd\\\\e");
    expect(copyValue("\\N")).toBe("\\\\N");
    expect(copyValue(62.5)).toBe("62.5");
    expect(copyValue(false)).toBe("false");
  });

  it("writes arrays as quoted array literals and objects as JSON", () => {
    expect(copyValue([])).toBe("{}");
    expect(copyValue(["gold", 'say "hi"', "back\\slash"])).toBe(
      '{"gold","say \\\\"hi\\\\"","back\\\\\\\\slash"}',
    );
    expect(copyValue({ owner: "analytics", note: "tab\there" })).toBe(
      '{"owner":"analytics","note":"tab\\\\there"}',
    );
  });
});
