import { describe, expect, it } from "vitest";
import { layoutLineage, renderLineageSvg } from "../../lib/reports/lineage-svg.ts";

const nodes = [
  { id: "bronze.scout_transactions_raw", layer: "landing" },
  { id: "bronze.bronze_transactions", layer: "bronze" },
  { id: "silver.silver_validated_transactions", layer: "silver" },
  { id: "silver.allowed_categories", layer: "silver" },
  { id: "gold.gold_monthly_summary", layer: "gold" },
];
const edges = [
  { from: "bronze.scout_transactions_raw", to: "bronze.bronze_transactions" },
  { from: "bronze.bronze_transactions", to: "silver.silver_validated_transactions" },
  { from: "silver.silver_validated_transactions", to: "gold.gold_monthly_summary" },
  { from: "silver.allowed_categories", to: "gold.gold_monthly_summary" },
  { from: "nowhere.missing", to: "gold.gold_monthly_summary" },
];

describe("lineage picture", () => {
  it("puts each layer in its own column, left to right, rows sorted by name", () => {
    const { positions } = layoutLineage(nodes);
    const x = (id: string) => positions.get(id)?.x ?? -1;
    expect(x("bronze.scout_transactions_raw")).toBeLessThan(x("bronze.bronze_transactions"));
    expect(x("bronze.bronze_transactions")).toBeLessThan(x("silver.silver_validated_transactions"));
    expect(x("silver.silver_validated_transactions")).toBeLessThan(x("gold.gold_monthly_summary"));
    expect(x("silver.allowed_categories")).toBe(x("silver.silver_validated_transactions"));
    expect(positions.get("silver.allowed_categories")?.y).toBeLessThan(
      positions.get("silver.silver_validated_transactions")?.y ?? 0,
    );
  });

  it("draws every node and every edge between known nodes, as valid SVG text", () => {
    const svg = renderLineageSvg(nodes, edges, "Medallion lineage <test>");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<g class="node"/g)).toHaveLength(5);
    expect(svg.match(/<path class="edge"/g)).toHaveLength(4);
    expect(svg).toContain('data-from="silver.allowed_categories" data-to="gold.gold_monthly_summary"');
    expect(svg).toContain("Medallion lineage &#60;test&#62;");
    expect(svg).not.toContain("nowhere.missing");
  });
});
