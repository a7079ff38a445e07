/**
 * Reference data, a pure function of the seed and the period: stores, products (with
 * the ~10% that are re-delivered later at a new price), customers, agencies, employees
 * and vendors. Small (hundreds of entries), so it is built in full.
 */
import type { Period } from "./calendar.ts";
import {
  AGENCIES,
  BRANDS,
  CATEGORIES,
  CATEGORY_SHARES,
  CUSTOMER_COUNT,
  EMPLOYEES_PER_AGENCY,
  PRICE_RANGES,
  PRODUCT_COUNT,
  PRODUCT_WORDS,
  STORE_CITIES,
  type Category,
  type Region,
} from "./catalog.ts";
import { createPrng, cumulativeWeights, deriveSeed } from "./prng.ts";

export interface Store {
  storeId: string;
  storeName: string;
  city: string;
  region: Region;
  /** Relative traffic. */
  weight: number;
}

export interface Product {
  productId: string;
  productName: string;
  category: Category;
  brand: string;
  /** Price in centavos from the period start. */
  priceCents: number;
  /** A later delivery with a new price, effective from that day (day number). */
  redelivery: { day: number; priceCents: number } | null;
}

export interface Employee {
  employeeId: string;
  agency: string;
}

export interface ReferenceData {
  stores: Store[];
  products: Product[];
  productsByCategory: Record<Category, Product[]>;
  customerCount: number;
  employees: Employee[];
  agencies: readonly string[];
}

export const REDELIVERED_SHARE = 0.1;

/** Prices end in .00, .25, .50 or .75. */
function roundPriceCents(pesos: number): number {
  return Math.max(25, Math.round(pesos * 4) * 25);
}

export function generateReferenceData(seed: number, period: Period): ReferenceData {
  const prng = createPrng(deriveSeed(seed, "reference"));

  const stores: Store[] = STORE_CITIES.map((place, i) => ({
    storeId: `S${String(i + 1).padStart(3, "0")}`,
    storeName: `Scout ${place.city}`,
    city: place.city,
    region: place.region,
    weight: (place.region === "NCR" ? 1.3 : 1) * (0.6 + prng.next()),
  }));

  // Exactly PRODUCT_COUNT / 10 products per category, in a seeded order.
  const slots = prng.shuffle(
    Array.from({ length: PRODUCT_COUNT }, (_, i) => CATEGORIES[i % CATEGORIES.length] as Category),
  );
  const products: Product[] = slots.map((category, i) => {
    const words = PRODUCT_WORDS[category];
    const brand = prng.pick(BRANDS[category]);
    const [low, high] = PRICE_RANGES[category];
    // Log-uniform within the range: more cheap items than expensive ones.
    const pesos = Math.exp(Math.log(low) + prng.next() * (Math.log(high) - Math.log(low)));
    return {
      productId: `P${String(i + 1).padStart(4, "0")}`,
      productName: `${brand} ${prng.pick(words.items)} ${prng.pick(words.sizes)}`,
      category,
      brand,
      priceCents: roundPriceCents(pesos),
      redelivery: null,
    };
  });

  const redelivered = prng.shuffle(products).slice(0, Math.round(products.length * REDELIVERED_SHARE));
  for (const product of redelivered) {
    const earliest = Math.min(30, period.days - 1);
    const offset = prng.int(Math.max(1, earliest), Math.max(1, period.days - 1));
    const change = (prng.chance(0.7) ? 1 : -1) * (0.05 + prng.next() * 0.1);
    let priceCents = roundPriceCents((product.priceCents / 100) * (1 + change));
    if (priceCents === product.priceCents) priceCents += 25;
    product.redelivery = { day: period.startDay + Math.min(offset, period.days - 1), priceCents };
  }

  const productsByCategory = Object.fromEntries(CATEGORIES.map((c) => [c, [] as Product[]])) as Record<
    Category,
    Product[]
  >;
  for (const product of products) productsByCategory[product.category].push(product);

  const employees: Employee[] = [];
  AGENCIES.forEach((agency, a) => {
    for (let e = 0; e < EMPLOYEES_PER_AGENCY; e++) {
      employees.push({ employeeId: `E${String(a * EMPLOYEES_PER_AGENCY + e + 1).padStart(4, "0")}`, agency });
    }
  });

  return {
    stores,
    products,
    productsByCategory,
    customerCount: CUSTOMER_COUNT,
    employees,
    agencies: AGENCIES,
  };
}

/** The price of a product on a day (the re-delivered price from its day on). */
export function priceOn(product: Product, day: number): number {
  return product.redelivery && day >= product.redelivery.day
    ? product.redelivery.priceCents
    : product.priceCents;
}

/** Cumulative pick weights used by the transaction generator. */
export interface PickTables {
  stores: Float64Array;
  categories: Float64Array;
  productsByCategory: Record<Category, Float64Array>;
}

export function pickTables(reference: ReferenceData, seed: number): PickTables {
  const prng = createPrng(deriveSeed(seed, "popularity"));
  const productsByCategory = Object.fromEntries(
    CATEGORIES.map((category) => {
      const list = reference.productsByCategory[category];
      // Zipf-like popularity in a seeded order: a few best sellers per category.
      const ranks = prng.shuffle(list.map((_, i) => i));
      return [category, cumulativeWeights(ranks.map((rank) => 1 / Math.pow(rank + 1, 0.8)))];
    }),
  ) as Record<Category, Float64Array>;
  return {
    stores: cumulativeWeights(reference.stores.map((s) => s.weight)),
    categories: cumulativeWeights(CATEGORIES.map((c) => CATEGORY_SHARES[c])),
    productsByCategory,
  };
}
