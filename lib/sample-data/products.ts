/**
 * The product catalog as delivered: every product once (updated_at = period start),
 * then the ~10% re-delivered later with a new price (so silver keeps the latest).
 */
import { formatDay } from "./calendar.ts";
import { resolveGeneration, type Generation, type GenerationOptions } from "./generation.ts";
import type { Product } from "./reference.ts";
import type { GeneratedRow } from "./transactions.ts";

export type ProductRowKind = "original" | "redelivered";

export interface ProductPayload {
  product_id: string;
  product_name: string;
  category: string;
  brand: string;
  unit_price: number;
  updated_at: string;
}

function payload(product: Product, priceCents: number, updatedAt: string): string {
  const row: ProductPayload = {
    product_id: product.productId,
    product_name: product.productName,
    category: product.category,
    brand: product.brand,
    unit_price: priceCents / 100,
    updated_at: updatedAt,
  };
  return JSON.stringify(row);
}

export function* productRows(
  options: GenerationOptions,
  generation: Generation = resolveGeneration(options),
): Generator<GeneratedRow<ProductRowKind>, void, undefined> {
  const { products } = generation.reference;
  const initial = `${generation.period.start}T00:00:00Z`;
  for (const product of products) {
    yield { payloadRaw: payload(product, product.priceCents, initial), kind: "original" };
  }
  const later = products
    .filter((p) => p.redelivery !== null)
    .sort((a, b) => a.redelivery!.day - b.redelivery!.day || a.productId.localeCompare(b.productId));
  for (const product of later) {
    const { day, priceCents } = product.redelivery!;
    yield { payloadRaw: payload(product, priceCents, `${formatDay(day)}T08:00:00Z`), kind: "redelivered" };
  }
}
