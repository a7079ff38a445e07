/**
 * Government expense claims: about one per 50 transactions (at least 20), on business
 * days of the period, log-normal amounts per category plus a deliberate cluster around
 * the USD 5,000 approval threshold (15% between 4,500 and 5,500, some exactly 5,000.00,
 * some just under it).
 */
import { BadRowCursor, planBadRows, RecentRows } from "./bad-rows.ts";
import { formatDay, weekdayOf } from "./calendar.ts";
import {
  EXPENSE_CATEGORIES,
  EXPENSE_DESCRIPTIONS,
  EXPENSE_PURPOSES,
  UNKNOWN_EXPENSE_CATEGORIES,
  VENDORS,
  type ExpenseCategory,
} from "./catalog.ts";
import { corruptPayload, type CorruptionSpec } from "./corrupt.ts";
import { resolveGeneration, type Generation, type GenerationOptions } from "./generation.ts";
import { createPrng, cumulativeWeights, deriveSeed, idPermutation } from "./prng.ts";
import type { GeneratedRow } from "./transactions.ts";

export interface ExpensePayload {
  expense_id: string;
  agency: string;
  employee_id: string;
  vendor: string;
  category: string;
  amount: number;
  currency: string;
  expense_date: string;
  description: string;
}

export const APPROVAL_THRESHOLD_CENTS = 500_000;
export const THRESHOLD_CLUSTER_SHARE = 0.15;

export const EXPENSE_SPEC: CorruptionSpec = {
  requiredFields: ["expense_id", "amount", "expense_date"],
  idField: "expense_id",
  amountField: "amount",
  dateField: "expense_date",
  categoryField: "category",
  unknownCategories: UNKNOWN_EXPENSE_CATEGORIES,
  wrongTypes: [
    { field: "amount", values: ["five thousand", "ninety", "TBD"] },
    { field: "expense_date", values: ["not-a-date"] },
  ],
  oversizedField: "description",
};

const CATEGORY_WEIGHTS = cumulativeWeights([0.2, 0.15, 0.18, 0.08, 0.1, 0.1, 0.09, 0.1]);
/** Median amount per category in USD (log-normal around it). */
const MEDIAN_USD: Readonly<Record<ExpenseCategory, number>> = {
  travel: 600,
  meals: 80,
  supplies: 250,
  equipment: 2500,
  professional_services: 4000,
  utilities: 700,
  training: 900,
  communications: 150,
};

/** Amount in cents: the threshold cluster, or log-normal around the category median. */
function amountCents(
  category: ExpenseCategory,
  clusterIndex: () => number,
  prng: ReturnType<typeof createPrng>,
): number {
  if (prng.chance(THRESHOLD_CLUSTER_SHARE)) {
    const n = clusterIndex();
    if (n % 6 === 0) return APPROVAL_THRESHOLD_CENTS; // exactly 5,000.00
    if (n % 6 === 1) return APPROVAL_THRESHOLD_CENTS - prng.pick([1, 50, 100, 500]); // just under
    return prng.int(450_000, 550_000);
  }
  const usd = Math.exp(Math.log(MEDIAN_USD[category]) + 0.9 * prng.normal());
  return Math.round(Math.min(250_000, Math.max(5, usd)) * 100);
}

export function* expenseRows(
  options: GenerationOptions,
  generation: Generation = resolveGeneration(options),
): Generator<GeneratedRow, void, undefined> {
  const { seed, period, reference } = generation;
  const total = generation.expenses;
  const plan = planBadRows(total, generation.badShare, deriveSeed(seed, "expenses:bad-plan"));
  const cursor = new BadRowCursor(plan);
  const prng = createPrng(deriveSeed(seed, "expenses"));
  const badPrng = createPrng(deriveSeed(seed, "expenses:bad"));
  const ids = idPermutation(seed, "expenses", 8);
  const recent = new RecentRows(256);
  let clusters = 0;
  const nextCluster = () => clusters++;

  for (let index = 0; index < total; index++) {
    let day = period.startDay + prng.int(0, period.days - 1);
    for (let tries = 0; tries < 10 && (weekdayOf(day) === 0 || weekdayOf(day) === 6); tries++) {
      day = period.startDay + prng.int(0, period.days - 1);
    }
    const employee = prng.pick(reference.employees);
    const category = EXPENSE_CATEGORIES[prng.pickWeighted(CATEGORY_WEIGHTS)]!;
    const description = prng
      .pick(EXPENSE_DESCRIPTIONS[category])
      .replace("{purpose}", prng.pick(EXPENSE_PURPOSES));
    const expense: ExpensePayload = {
      expense_id: `EX-${String(ids(index)).padStart(8, "0")}`,
      agency: employee.agency,
      employee_id: employee.employeeId,
      vendor: prng.pick(VENDORS[category]),
      category,
      amount: amountCents(category, nextCluster, prng) / 100,
      currency: "USD",
      expense_date: formatDay(day),
      description,
    };
    const kind = cursor.kindAt(index);
    if (kind === null) {
      const payloadRaw = JSON.stringify(expense);
      recent.push(payloadRaw);
      yield { payloadRaw, kind: "good" };
    } else {
      yield { payloadRaw: corruptPayload(kind, { ...expense }, EXPENSE_SPEC, badPrng, recent, period), kind };
    }
  }
}
