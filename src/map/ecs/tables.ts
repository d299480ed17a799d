import { readFileSync } from 'node:fs';
import { FLOW_FIELDS } from '../../decode/tables.js';

function table<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../mappings/ecs/${name}`, import.meta.url), 'utf8')) as T;
}

export interface Categorization {
  category?: string[];
  type: string[];
}

const categories = table<{ default: Categorization; events: Record<string, Categorization> }>(
  'cloudtrail-event-categories.json',
);
export const DEFAULT_CATEGORIZATION: Categorization = categories.default;
export const EVENT_CATEGORIZATION: ReadonlyMap<string, Categorization> = new Map(
  Object.entries(categories.events),
);

export const TRANSPORTS: ReadonlyMap<string, string> = new Map(
  Object.entries(table<{ protocols: Record<string, string> }>('protocols.json').protocols),
);

export const TCP_FLAGS: readonly { bit: number; name: string }[] = table<{
  flags: { bit: number; name: string }[];
}>('tcp-flags.json').flags;

/** Flow fields AWS documents as integers (Parquet INT_32/INT_64): their text must be a whole number. */
export const FLOW_NUMBER_FIELDS: ReadonlySet<string> = new Set(
  [...FLOW_FIELDS].filter(([, field]) => field.type.startsWith('INT_')).map(([name]) => name),
);
