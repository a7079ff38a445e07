/**
 * Renders table-level lineage as an SVG picture: one column per medallion layer (raw
 * landing tables first), one box per table, a curve per edge. Pure: tests compare the
 * structure, the main job writes the file.
 */

export interface LineageNode {
  /** Unique key, e.g. `silver.products`. */
  id: string;
  /** Shown in the box; default the id. */
  label?: string;
  /** Column the node is drawn in. */
  layer: string;
}

export interface LineageEdge {
  from: string;
  to: string;
}

export const LAYER_COLUMNS = ["landing", "bronze", "silver", "gold", "platinum"] as const;

const LAYER_COLORS: Record<string, string> = {
  landing: "#e7e1d7",
  bronze: "#f0d3b0",
  silver: "#dfe3e8",
  gold: "#f6e39b",
  platinum: "#d9e8f5",
};

const BOX_WIDTH = 300;
const BOX_HEIGHT = 26;
const COLUMN_GAP = 110;
const ROW_GAP = 10;
const MARGIN = 30;
const HEADER = 40;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export interface Layout {
  width: number;
  height: number;
  positions: Map<string, { x: number; y: number }>;
}

/** Places nodes: columns by layer (unknown layers after the known ones), rows sorted by id. */
export function layoutLineage(nodes: readonly LineageNode[]): Layout {
  const columns = [
    ...LAYER_COLUMNS,
    ...new Set(nodes.map((n) => n.layer).filter((l) => !LAYER_COLUMNS.includes(l as never))),
  ];
  const positions = new Map<string, { x: number; y: number }>();
  let tallest = 0;
  columns.forEach((layer, column) => {
    const inColumn = nodes.filter((node) => node.layer === layer).sort((a, b) => a.id.localeCompare(b.id));
    inColumn.forEach((node, row) => {
      positions.set(node.id, {
        x: MARGIN + column * (BOX_WIDTH + COLUMN_GAP),
        y: MARGIN + HEADER + row * (BOX_HEIGHT + ROW_GAP),
      });
    });
    tallest = Math.max(tallest, inColumn.length);
  });
  return {
    width: MARGIN * 2 + columns.length * BOX_WIDTH + (columns.length - 1) * COLUMN_GAP,
    height: MARGIN * 2 + HEADER + Math.max(1, tallest) * (BOX_HEIGHT + ROW_GAP),
    positions,
  };
}

export function renderLineageSvg(
  nodes: readonly LineageNode[],
  edges: readonly LineageEdge[],
  title: string,
): string {
  const layout = layoutLineage(nodes);
  const columns = [...new Set([...LAYER_COLUMNS, ...nodes.map((node) => node.layer)])];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${MARGIN}" y="${MARGIN - 8}" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  columns.forEach((layer, column) => {
    if (!nodes.some((node) => node.layer === layer)) return;
    const x = MARGIN + column * (BOX_WIDTH + COLUMN_GAP);
    parts.push(`<text x="${x}" y="${MARGIN + 24}" font-weight="bold" fill="#444">${escapeXml(layer)}</text>`);
  });
  for (const edge of edges) {
    const from = layout.positions.get(edge.from);
    const to = layout.positions.get(edge.to);
    if (!from || !to) continue;
    const y1 = from.y + BOX_HEIGHT / 2;
    const y2 = to.y + BOX_HEIGHT / 2;
    // Between columns: right edge to left edge. Within a column: an arc out to the left,
    // so the curve never crosses the boxes in between.
    const path =
      from.x === to.x
        ? `M${from.x},${y1} C${from.x - 45},${y1} ${to.x - 45},${y2} ${to.x},${y2}`
        : (() => {
            const x1 = from.x + BOX_WIDTH;
            const bend = Math.max(30, (to.x - x1) / 2);
            return `M${x1},${y1} C${x1 + bend},${y1} ${to.x - bend},${y2} ${to.x},${y2}`;
          })();
    parts.push(
      `<path class="edge" data-from="${escapeXml(edge.from)}" data-to="${escapeXml(edge.to)}" d="${path}" fill="none" stroke="#7a8599" stroke-width="1.2" marker-end="url(#arrow)"/>`,
    );
  }
  parts.push(
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#7a8599"/></marker></defs>`,
  );
  for (const node of nodes) {
    const position = layout.positions.get(node.id);
    if (!position) continue;
    const label = node.label ?? node.id;
    parts.push(
      `<g class="node" data-id="${escapeXml(node.id)}"><rect x="${position.x}" y="${position.y}" width="${BOX_WIDTH}" height="${BOX_HEIGHT}" rx="5" fill="${LAYER_COLORS[node.layer] ?? "#eeeeee"}" stroke="#8a8f98"/>` +
        `<text x="${position.x + 8}" y="${position.y + 17}">${escapeXml(label.length > 46 ? `${label.slice(0, 45)}…` : label)}</text></g>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n");
}
