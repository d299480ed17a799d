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

/** Layouts for flow lines without a header line, by token count. */
export type FlowLayouts = ReadonlyMap<number, { name: string; fields: readonly string[] }>;

/** AWS's default layout and Elastic's known ones. */
export const FLOW_LAYOUTS: FlowLayouts = new Map(
  layoutTable.layouts.map((l) => [l.count, { name: l.name, fields: l.fields }]),
);

/**
 * The known layouts with the user's own formats (`pipeline.flowFormats`, validated) taking their token
 * counts: a flow log that reaches S3 without its header (through CloudWatch Logs or Firehose) in a custom
 * format is read by name instead of being taken for a known layout of the same length.
 */
export function flowLayoutsWith(formats: readonly string[]): FlowLayouts {
  if (formats.length === 0) return FLOW_LAYOUTS;
  const layouts = new Map(FLOW_LAYOUTS);
  formats.forEach((format, i) => {
    const fields = format.trim().split(/\s+/);
    layouts.set(fields.length, { name: `pipeline.flowFormats[${i}]`, fields });
  });
  return layouts;
}

export const FLOW_FIELDS: ReadonlyMap<string, { version: number | null; type: string }> = new Map(
  Object.entries(fieldTable.fields),
);
