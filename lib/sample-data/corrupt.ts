/**
 * Turns a good payload into a bad row of a given kind. Each bad row breaks exactly one
 * rule, so the silver quarantine's primary reason matches the kind one to one.
 */
import type { BadKind, RecentRows } from "./bad-rows.ts";
import { formatDay, type Period } from "./calendar.ts";
import type { Prng } from "./prng.ts";

export const MAX_TEXT_LENGTH = 255;

export interface CorruptionSpec {
  /** Required fields, one of which missing_field removes. */
  requiredFields: readonly string[];
  idField: string;
  amountField: string;
  dateField: string;
  /** Timestamp whose date part follows dateField (future_date), if any. */
  timestampField?: string;
  categoryField: string;
  unknownCategories: readonly string[];
  /** wrong_type: a field and the non-numeric / non-date strings it may get. */
  wrongTypes: readonly { field: string; values: readonly string[] }[];
  /** oversized_string: the field that gets > 255 characters. */
  oversizedField: string;
}

function truncatedJson(raw: string, prng: Prng): string {
  // Any proper prefix of a JSON object is invalid (the object is never closed).
  return raw.slice(0, prng.int(1, raw.length - 2));
}

function malformed(payload: Record<string, unknown>, spec: CorruptionSpec, prng: Prng): string {
  const raw = JSON.stringify(payload);
  let broken: string;
  switch (prng.int(0, 3)) {
    case 0:
      broken = truncatedJson(raw, prng);
      break;
    case 1:
      broken = raw.replaceAll('"', "'"); // Python-style quotes
      break;
    case 2:
      broken = `${raw.slice(0, -1)},}`; // trailing comma
      break;
    default:
      broken = raw.replace(
        `"${spec.amountField}":${JSON.stringify(payload[spec.amountField])}`,
        `"${spec.amountField}":NaN`,
      );
  }
  try {
    JSON.parse(broken);
  } catch {
    return broken;
  }
  return truncatedJson(raw, prng);
}

/** Grows a string past the limit by repeating it (a concatenation bug upstream). */
export function oversize(value: string, prng: Prng): string {
  const target = prng.int(300, 600);
  const unit = `${value}; `;
  return unit.repeat(Math.ceil(target / unit.length)).slice(0, target);
}

export function corruptPayload(
  kind: BadKind,
  good: Record<string, unknown>,
  spec: CorruptionSpec,
  prng: Prng,
  recent: RecentRows,
  period: Period,
): string {
  const payload: Record<string, unknown> = { ...good };
  switch (kind) {
    case "malformed_json":
      return malformed(payload, spec, prng);
    case "wrong_type": {
      const choice = prng.pick(spec.wrongTypes);
      payload[choice.field] = prng.pick(choice.values);
      break;
    }
    case "missing_field":
      delete payload[prng.pick(spec.requiredFields)];
      break;
    case "non_positive_amount": {
      const amount = payload[spec.amountField] as number;
      payload[spec.amountField] = prng.chance(0.4) ? 0 : -amount;
      break;
    }
    case "future_date": {
      const date = formatDay(period.todayDay + prng.int(1, 365));
      payload[spec.dateField] = date;
      if (spec.timestampField) {
        const ts = payload[spec.timestampField] as string;
        payload[spec.timestampField] = date + ts.slice(10);
      }
      break;
    }
    case "unknown_category":
      payload[spec.categoryField] = prng.pick(spec.unknownCategories);
      break;
    case "duplicate":
      return recent.pick(prng.next());
    case "oversized_string":
      payload[spec.oversizedField] = oversize(String(payload[spec.oversizedField]), prng);
      break;
  }
  return JSON.stringify(payload);
}
