/**
 * Which rows are bad, and how. Pure: the plan depends only on (total, bad share, seed).
 *
 * - count: B = round(total x share), raised to one per kind when total >= 100 (so every
 *   kind appears), and capped at floor(total / 2);
 * - positions: the j-th bad row (j = 0..B-1) sits at floor((j + 1) x total / (B + 1)),
 *   evenly spread, never at row 0 (so a duplicate always has an earlier good row);
 * - kinds: slots go round the kinds in cycles of K = kinds.length, each cycle in its own
 *   seeded order, so every kind gets floor(B / K) or one more.
 */
import { createPrng, deriveSeed } from "./prng.ts";

export const BAD_KINDS = [
  "malformed_json",
  "wrong_type",
  "missing_field",
  "non_positive_amount",
  "future_date",
  "unknown_category",
  "duplicate",
  "oversized_string",
] as const;
export type BadKind = (typeof BAD_KINDS)[number];
export type RowKind = "good" | BadKind;

/** Every kind is guaranteed at least once from this many rows on (when share > 0). */
export const ALL_KINDS_FROM = 100;
export const MAX_BAD_SHARE = 0.5;

export interface BadRowPlan {
  total: number;
  badCount: number;
  kinds: readonly BadKind[];
  seed: number;
}

export function planBadRows(
  total: number,
  badShare: number,
  seed: number,
  kinds: readonly BadKind[] = BAD_KINDS,
): BadRowPlan {
  if (!Number.isInteger(total) || total < 0)
    throw new RangeError(`total must be a whole number >= 0, got ${total}`);
  if (!(badShare >= 0 && badShare <= MAX_BAD_SHARE)) {
    throw new RangeError(`bad share must be between 0 and ${MAX_BAD_SHARE}, got ${badShare}`);
  }
  let badCount = Math.round(total * badShare);
  if (badShare > 0 && total >= ALL_KINDS_FROM) badCount = Math.max(badCount, kinds.length);
  badCount = Math.min(badCount, Math.floor(total / 2));
  return { total, badCount, kinds, seed };
}

/** Row index of the j-th bad slot (exact integer arithmetic). */
export function badPosition(plan: BadRowPlan, slot: number): number {
  const numerator = (slot + 1) * plan.total;
  const divisor = plan.badCount + 1;
  return (numerator - (numerator % divisor)) / divisor;
}

function cycleOrder(plan: BadRowPlan, cycle: number): readonly BadKind[] {
  return createPrng(deriveSeed(plan.seed, `bad-kinds:${cycle}`)).shuffle(plan.kinds);
}

/** The kind of the j-th bad slot. */
export function badKindOfSlot(plan: BadRowPlan, slot: number): BadKind {
  const k = plan.kinds.length;
  return cycleOrder(plan, Math.floor(slot / k))[slot % k] as BadKind;
}

/** Whether row `index` is bad, and which kind (null = good). Pure; O(1) per call. */
export function assignBadKind(index: number, plan: BadRowPlan): BadKind | null {
  if (plan.badCount === 0 || index <= 0 || index >= plan.total) return null;
  // badPosition(j) ~ (j + 1) x total / (B + 1): invert, then check the neighbours.
  const guess = Math.floor(((index + 1) * (plan.badCount + 1)) / plan.total) - 1;
  for (let slot = Math.max(0, guess - 2); slot <= Math.min(plan.badCount - 1, guess + 2); slot++) {
    if (badPosition(plan, slot) === index) return badKindOfSlot(plan, slot);
  }
  return null;
}

/** The expected number of rows per bad kind under a plan. */
export function expectedBadCounts(plan: BadRowPlan): Record<BadKind, number> {
  const counts = Object.fromEntries(BAD_KINDS.map((kind) => [kind, 0])) as Record<BadKind, number>;
  const k = plan.kinds.length;
  const fullCycles = Math.floor(plan.badCount / k);
  for (const kind of plan.kinds) counts[kind] += fullCycles;
  const rest = plan.badCount % k;
  if (rest > 0) for (const kind of cycleOrder(plan, fullCycles).slice(0, rest)) counts[kind] += 1;
  return counts;
}

/** Walks the rows in order, answering `kindAt(index)` for increasing indexes in O(1). */
export class BadRowCursor {
  private slot = 0;
  private nextPosition: number;
  private cycle = -1;
  private order: readonly BadKind[] = [];

  constructor(private readonly plan: BadRowPlan) {
    this.nextPosition = plan.badCount > 0 ? badPosition(plan, 0) : Number.POSITIVE_INFINITY;
  }

  /** Call with 0, 1, 2, ... in order. */
  kindAt(index: number): BadKind | null {
    if (index !== this.nextPosition) return null;
    const k = this.plan.kinds.length;
    const cycle = Math.floor(this.slot / k);
    if (cycle !== this.cycle) {
      this.cycle = cycle;
      this.order = cycleOrder(this.plan, cycle);
    }
    const kind = this.order[this.slot % k] as BadKind;
    this.slot++;
    this.nextPosition =
      this.slot < this.plan.badCount ? badPosition(this.plan, this.slot) : Number.POSITIVE_INFINITY;
    return kind;
  }
}

/** The last `capacity` good payloads, for duplicates (constant memory). */
export class RecentRows {
  private readonly items: string[] = [];
  private nextSlot = 0;

  constructor(private readonly capacity = 256) {}

  push(payloadRaw: string): void {
    if (this.items.length < this.capacity) this.items.push(payloadRaw);
    else this.items[this.nextSlot] = payloadRaw;
    this.nextSlot = (this.nextSlot + 1) % this.capacity;
  }

  get size(): number {
    return this.items.length;
  }

  pick(u: number): string {
    if (this.items.length === 0) throw new Error("no earlier good row to duplicate");
    return this.items[Math.floor(u * this.items.length)] as string;
  }
}
