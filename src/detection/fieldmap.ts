import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { LogService } from './model.js';

/**
 * Per-backend translation of Sigma field names (raw CloudTrail / flow names) into the names a backend
 * stores. The tables are data in mappings/detection/; this module only reads and applies them.
 */
const targetSchema = z.union([
  z.string().min(1),
  z.strictObject({ field: z.string().min(1), values: z.record(z.string(), z.string()) }),
]);
const serviceMapSchema = z.strictObject({
  index: z.array(z.string()).optional(),
  dataset: z.string().optional(),
  base: z.string().optional(),
  fields: z.record(z.string(), targetSchema).default({}),
  prefixes: z.record(z.string(), z.string()).default({}),
  /** ECS: Sigma prefix -> the string (Java Map.toString) form of the blob its `prefixes` entry flattens. */
  strings: z.record(z.string(), z.string()).default({}),
  /** Splunk: fields the add-on fills at search time when the record lacks them, with the value it uses. */
  defaults: z.record(z.string(), z.string()).default({}),
});
const fieldMapFileSchema = z.strictObject({ cloudtrail: serviceMapSchema, vpcflow: serviceMapSchema });

export type ServiceFieldMap = z.infer<typeof serviceMapSchema>;
export type FieldMapTable = z.infer<typeof fieldMapFileSchema>;

export interface MappedField {
  field: string;
  /** Rule value -> stored value (case-insensitive on the rule side), when the backend stores other words. */
  values?: Record<string, string>;
}

/** Resolves one Sigma field; undefined when the backend has no name for it. */
export type FieldResolver = (service: LogService, sigmaField: string) => MappedField | undefined;

const cache = new Map<string, FieldMapTable>();

export function loadFieldMap(backend: 'ecs' | 'splunk'): FieldMapTable {
  let table = cache.get(backend);
  if (!table) {
    const url = new URL(`../../mappings/detection/${backend}.yml`, import.meta.url);
    table = fieldMapFileSchema.parse(parse(readFileSync(url, 'utf8')));
    cache.set(backend, table);
  }
  return table;
}

/** Exact names first, then the longest matching prefix (`requestParameters.x.y` -> `<prefix>.x.y`). */
export function resolverFor(table: FieldMapTable): FieldResolver {
  return (service, sigmaField) => {
    const map = table[service];
    const exact = map.fields[sigmaField];
    if (exact !== undefined) return typeof exact === 'string' ? { field: exact } : exact;
    let best: [string, string] | undefined;
    for (const [prefix, target] of Object.entries(map.prefixes)) {
      if (sigmaField.startsWith(`${prefix}.`) && (!best || prefix.length > best[0].length))
        best = [prefix, target];
    }
    if (best) return { field: best[1] + sigmaField.slice(best[0].length) };
    return undefined;
  };
}

/** The raw form: Sigma names are the record's own names (CloudTrail JSON paths, flow field names). */
export const rawResolver: FieldResolver = (_service, sigmaField) => ({ field: sigmaField });

/** Translates a rule value through the field's value table, keeping it when no entry applies. */
export function translateValue<V>(mapped: MappedField, value: V): V | string {
  if (!mapped.values || typeof value !== 'string') return value;
  const lower = value.toLowerCase();
  for (const [from, to] of Object.entries(mapped.values)) if (from.toLowerCase() === lower) return to;
  return value;
}
