/**
 * Monthly cost estimate of the cloud stack: a pure function of the configured sizes and a
 * price table (stack config `workbench:prices`, the infrastructure README's table as defaults).
 * All arithmetic is in cents so totals are exact.
 */

/** Monthly USD prices (the shape of `workbench:prices`). */
export interface PriceTable {
  /** Per droplet (DOKS node), by size slug. */
  dropletMonthly: Record<string, number>;
  /** Per App Platform instance, by size slug. */
  appInstanceMonthly: Record<string, number>;
  registryMonthly: { starter: number; basic: number; professional: number };
  spacesMonthly: number;
  loadBalancerMonthly: number;
  volumeGibMonthly: number;
  supabaseMonthly: number;
  llmApiMonthly: number;
}

/** What the stack runs, as far as prices go. */
export interface CostInput {
  /** The DOKS node pool: size slug, configured count and autoscaling ceiling. */
  cluster: { nodeSize: string; nodeCount: number; maxNodes: number };
  /** App Platform apps: size slug and instances each. */
  apps: { name: string; instanceSize: string; instanceCount: number }[];
  /** Container registry subscription tier. */
  registryTier: "starter" | "basic" | "professional";
  /** Spaces subscriptions (one covers 250 GiB). */
  spacesBuckets: number;
  /** DigitalOcean load balancers (Traefik's Service). */
  loadBalancers: number;
  /** Block-storage volumes: what each holds and its size in GiB. */
  volumes: { name: string; gib: number }[];
  /** Supabase Pro plan (the database lives there). */
  supabase: boolean;
  /** LLM API spend through the gateway. */
  llmApi: boolean;
}

export interface CostLine {
  resource: string;
  spec: string;
  quantity: number;
  /** USD per unit and month. */
  unitMonthly: number;
  /** USD per month: quantity x unit. */
  monthly: number;
}

export interface CostEstimate {
  lines: CostLine[];
  /** USD per month at the configured node count. */
  total: number;
  /** USD per month with the node pool at maxNodes. */
  totalAtMaxNodes: number;
}

const cents = (usd: number) => Math.round(usd * 100);
const dollars = (value: number) => value / 100;

function priceOf(table: Record<string, number>, slug: string, key: string): number {
  const price = table[slug];
  if (price === undefined) {
    throw new Error(
      `no price for size '${slug}' in workbench:prices.${key}: add it (USD per month) to the stack config`,
    );
  }
  return price;
}

export function estimateMonthlyCost(input: CostInput, prices: PriceTable): CostEstimate {
  const lines: CostLine[] = [];
  const add = (resource: string, spec: string, quantity: number, unitMonthly: number) => {
    if (quantity > 0) {
      lines.push({ resource, spec, quantity, unitMonthly, monthly: dollars(quantity * cents(unitMonthly)) });
    }
  };

  const nodePrice = priceOf(prices.dropletMonthly, input.cluster.nodeSize, "dropletMonthly");
  add(
    "DOKS node pool",
    `${input.cluster.nodeSize} (autoscaling to ${input.cluster.maxNodes})`,
    input.cluster.nodeCount,
    nodePrice,
  );
  for (const app of input.apps) {
    add(
      `App Platform: ${app.name}`,
      app.instanceSize,
      app.instanceCount,
      priceOf(prices.appInstanceMonthly, app.instanceSize, "appInstanceMonthly"),
    );
  }
  add("Container Registry", input.registryTier, 1, prices.registryMonthly[input.registryTier]);
  add("Spaces", "250 GiB storage + 1 TiB transfer", input.spacesBuckets, prices.spacesMonthly);
  add("Load Balancer", "Traefik service", input.loadBalancers, prices.loadBalancerMonthly);
  const volumeGib = input.volumes.reduce((sum, volume) => sum + volume.gib, 0);
  const volumeSpec = `GiB: ${input.volumes.map((volume) => `${volume.name} ${volume.gib}`).join(", ")}`;
  add("Block storage", volumeSpec, volumeGib, prices.volumeGibMonthly);
  if (input.supabase) add("Supabase", "Pro plan", 1, prices.supabaseMonthly);
  if (input.llmApi) add("LLM API", "estimate (~100 requests/day)", 1, prices.llmApiMonthly);

  const totalCents = lines.reduce((sum, line) => sum + cents(line.monthly), 0);
  const extraNodes = input.cluster.maxNodes - input.cluster.nodeCount;
  return {
    lines,
    total: dollars(totalCents),
    totalAtMaxNodes: dollars(totalCents + extraNodes * cents(nodePrice)),
  };
}

const usd = (value: number) => `$${value.toFixed(2)}`;

/** A plain-text table of the estimate, for the terminal. */
export function formatCostEstimate(estimate: CostEstimate, title = "Monthly cost estimate (USD)"): string {
  const rows = estimate.lines.map((line) => [
    line.resource,
    line.spec,
    String(line.quantity),
    usd(line.unitMonthly),
    usd(line.monthly),
  ]);
  const header = ["resource", "spec", "qty", "unit", "monthly"];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  );
  const format = (row: string[]) =>
    row
      .map((cell, column) =>
        column >= 2 ? cell.padStart(widths[column] as number) : cell.padEnd(widths[column] as number),
      )
      .join("  ");
  const rule = widths.map((width) => "-".repeat(width)).join("  ");
  return [
    title,
    format(header),
    rule,
    ...rows.map(format),
    rule,
    `total ${usd(estimate.total)} per month (${usd(estimate.totalAtMaxNodes)} with the node pool at its maximum)`,
  ].join("\n");
}
