/** Reading OCSF values, which come as parsed JSON or as Parquet gives them (bigints, Dates, nulls). */

export type Json = Record<string, unknown>;

export function obj(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

/** A scalar as text; empty, null and structures as undefined. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return undefined;
}

/** Epoch milliseconds of a time given as milliseconds (OCSF `time`), a timestamp or ISO text; else NaN. */
export function epochMs(value: unknown): number {
  if (typeof value === 'number' || typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'string') return Date.parse(value);
  return Number.NaN;
}
