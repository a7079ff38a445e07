import { describe, expect, it } from "vitest";
import { layoutLineage, renderLineageSvg } from "../../lib/reports/lineage-svg.ts";

const nodes = [
  { id: "bronze.scout_transactions_raw", layer: "landing" },
  { id: "bronze.transactions", layer: "bronze" },
  { id: "silver.validated_transactions", layer: "silver" },
  { id: "silver.allowed_categories", layer: "silver" },
  { id: "gold.monthly_summary", layer: "gold" },
];
const edges = [
  { from: "bronze.scout_transactions_raw", to: "bronze.transactions" },
  { from: "bronze.transactions", to: "silver.validated_transactions" },
  { from: "silver.validated_transactions", to: "gold.monthly_summary" },
  { from: "silver.allowed_categories", to: "gold.monthly_summary" },
  { from: "nowhere.missing", to: "gold.monthly_summary" },
];

describe("lineage picture", () => {
  it("puts each layer in its own column, left to right, rows sorted by name", () => {
    const { positions } = layoutLineage(nodes);
    const x = (id: string) => positions.get(id)?.x ?? -1;
    expect(x("bronze.scout_transactions_raw")).toBeLessThan(x("bronze.transactions"));
    expect(x("bronze.transactions")).toBeLessThan(x("silver.validated_transactions"));
    expect(x("silver.validated_transactions")).toBeLessThan(x("gold.monthly_summary"));
    expect(x("silver.allowed_categories")).toBe(x("silver.validated_transactions"));
    expect(positions.get("silver.allowed_categories")?.y).toBeLessThan(
      positions.get("silver.validated_transactions")?.y ?? 0,
    );
  });

  it("draws every node and every edge between known nodes, as valid SVG text", () => {
    const svg = renderLineageSvg(nodes, edges, "Medallion lineage <test>");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<g class="node"/g)).toHaveLength(5);
    expect(svg.match(/<path class="edge"/g)).toHaveLength(4);
    expect(svg).toContain('data-from="silver.allowed_categories" data-to="gold.monthly_summary"');
    expect(svg).toContain("Medallion lineage &#60;test&#62;");
    expect(svg).not.toContain("nowhere.missing");
  });
});
