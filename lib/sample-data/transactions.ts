/**
 * Scout retail transactions, generated lazily in day order: each day gets its share of
 * the total by seasonality (see calendar.ts), each row a store, a product (category
 * mix skewed during spike weeks), a quantity and the product's price that day.
 */
import { BadRowCursor, planBadRows, RecentRows, type RowKind } from "./bad-rows.ts";
import { dailyVolumes, formatDay, spikingCategories, SPIKE_FACTOR } from "./calendar.ts";
import {
  CATEGORIES,
  CATEGORY_SHARES,
  NUMBER_WORDS,
  PAYMENT_METHODS,
  PAYMENT_SHARES,
  UNKNOWN_CATEGORIES,
  type Category,
} from "./catalog.ts";
import { corruptPayload, type CorruptionSpec } from "./corrupt.ts";
import { resolveGeneration, type Generation, type GenerationOptions } from "./generation.ts";
import { createPrng, cumulativeWeights, deriveSeed, idPermutation } from "./prng.ts";
import { pickTables, priceOn } from "./reference.ts";

export interface GeneratedRow<K extends string = RowKind> {
  payloadRaw: string;
  kind: K;
}

export interface TransactionPayload {
  transaction_id: string;
  store_id: string;
  product_id: string;
  category: string;
  quantity: number;
  unit_price: number;
  amount: number;
  transaction_date: string;
  transaction_ts: string;
  payment_method: string;
  customer_id: string;
}

export const TRANSACTION_SPEC: CorruptionSpec = {
  requiredFields: ["transaction_id", "amount", "transaction_date"],
  idField: "transaction_id",
  amountField: "amount",
  dateField: "transaction_date",
  timestampField: "transaction_ts",
  categoryField: "category",
  unknownCategories: UNKNOWN_CATEGORIES,
  wrongTypes: [
    { field: "amount", values: NUMBER_WORDS.filter((w) => w !== "two") },
    { field: "quantity", values: ["two", "three", "a dozen"] },
    { field: "transaction_date", values: ["not-a-date"] },
  ],
  oversizedField: "store_id",
};

/** Shopping hours 07:00-21:59, busiest after work. */
const HOUR_WEIGHTS = cumulativeWeights([2, 3, 4, 5, 6, 6, 5, 5, 6, 7, 8, 9, 8, 5, 3]);
const QUANTITY_WEIGHTS = cumulativeWeights([0.5, 0.25, 0.12, 0.07, 0.04, 0.02]);
const PAYMENT_WEIGHTS = cumulativeWeights([...PAYMENT_SHARES]);
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));

/** Category weights on a day on which `spiking` categories sell SPIKE_FACTOR times as much. */
function categoryTable(spiking: readonly Category[]): Float64Array {
  return cumulativeWeights(
    CATEGORIES.map((c) => CATEGORY_SHARES[c] * (spiking.includes(c) ? SPIKE_FACTOR : 1)),
  );
}

/**
 * The transaction rows, lazily: `{ payloadRaw, kind }` one at a time, nothing kept but
 * a few hundred recent good payloads (for duplicates) and one count per day.
 */
export function* transactionRows(
  options: GenerationOptions,
  generation: Generation = resolveGeneration(options),
): Generator<GeneratedRow, void, undefined> {
  const { seed, period, reference, spikes } = generation;
  const total = generation.transactions;
  const plan = planBadRows(total, generation.badShare, deriveSeed(seed, "transactions:bad-plan"));
  const cursor = new BadRowCursor(plan);
  const prng = createPrng(deriveSeed(seed, "transactions"));
  const badPrng = createPrng(deriveSeed(seed, "transactions:bad"));
  const ids = idPermutation(seed, "transactions", 10);
  const tables = pickTables(reference, seed);
  const volumes = dailyVolumes(total, period, spikes);
  const recent = new RecentRows(256);
  const customers = reference.customerCount;

  let index = 0;
  for (let d = 0; d < period.days; d++) {
    const count = volumes[d] as number;
    if (count === 0) continue;
    const day = period.startDay + d;
    const date = formatDay(day);
    const spiking = spikingCategories(day, spikes);
    const categories = spiking.length > 0 ? categoryTable(spiking) : tables.categories;
    for (let k = 0; k < count; k++, index++) {
      const store = reference.stores[prng.pickWeighted(tables.stores)]!;
      const category = CATEGORIES[prng.pickWeighted(categories)]!;
      const product =
        reference.productsByCategory[category][prng.pickWeighted(tables.productsByCategory[category])]!;
      const quantity = prng.pickWeighted(QUANTITY_WEIGHTS) + 1;
      const priceCents = priceOn(product, day);
      const hour = 7 + prng.pickWeighted(HOUR_WEIGHTS);
      const minute = prng.int(0, 59);
      const second = prng.int(0, 59);
      const customer = 1 + Math.min(customers - 1, Math.floor(customers * Math.pow(prng.next(), 1.6)));
      const payment = PAYMENT_METHODS[prng.pickWeighted(PAYMENT_WEIGHTS)]!;
      const tx: TransactionPayload = {
        transaction_id: `TX-${String(ids(index)).padStart(10, "0")}`,
        store_id: store.storeId,
        product_id: product.productId,
        category,
        quantity,
        unit_price: priceCents / 100,
        amount: (quantity * priceCents) / 100,
        transaction_date: date,
        transaction_ts: `${date}T${TWO_DIGITS[hour]}:${TWO_DIGITS[minute]}:${TWO_DIGITS[second]}Z`,
        payment_method: payment,
        customer_id: `C${String(customer).padStart(5, "0")}`,
      };
      const kind = cursor.kindAt(index);
      if (kind === null) {
        const payloadRaw = JSON.stringify(tx);
        recent.push(payloadRaw);
        yield { payloadRaw, kind: "good" };
      } else {
        yield {
          payloadRaw: corruptPayload(kind, { ...tx }, TRANSACTION_SPEC, badPrng, recent, period),
          kind,
        };
      }
    }
  }
}
