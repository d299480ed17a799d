import { readFileSync } from 'node:fs';

/** Reads a data table shipped in the package's `mappings/` folder (same relative place from src/ and dist/). */
export function readMappingTable<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../mappings/${name}`, import.meta.url), 'utf8')) as T;
}

interface FlowLayoutTable {
  layouts: { name: string; count: number; fields: string[] }[];
}
interface FlowFieldTable {
  fields: Record<string, { version: number | null; type: string }>;
}

const layoutTable = readMappingTable<FlowLayoutTable>('ecs/vpcflow-layouts.json');
const fieldTable = readMappingTable<FlowFieldTable>('ecs/vpcflow-fields.json');

/** Header-less layouts by token count. */
export const FLOW_LAYOUTS: ReadonlyMap<number, { name: string; fields: readonly string[] }> = new Map(
  layoutTable.layouts.map((l) => [l.count, { name: l.name, fields: l.fields }]),
);

export const FLOW_FIELDS: ReadonlyMap<string, { version: number | null; type: string }> = new Map(
  Object.entries(fieldTable.fields),
);
