import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { LogService, SearchNode } from './model.js';

/**
 * What the raw records look like below a Sigma path (mappings/detection/shapes.yml): which paths are
 * arrays, of objects or of values, and which keys an object-holding path has. Splunk needs it to name
 * fields (`items{}.userId`); every backend needs it to test whether an object exists, since they index
 * only leaves.
 */
const shapeSchema = z.strictObject({
  array: z.enum(['objects', 'values']).optional(),
  keys: z.array(z.string().min(1)).min(1).optional(),
});
const fileSchema = z.strictObject({
  cloudtrail: z.record(z.string(), shapeSchema),
  vpcflow: z.record(z.string(), shapeSchema),
});
export type Shape = z.infer<typeof shapeSchema>;

let table: z.infer<typeof fileSchema> | undefined;
export function loadShapes(): z.infer<typeof fileSchema> {
  table ??= fileSchema.parse(
    parse(readFileSync(new URL('../../mappings/detection/shapes.yml', import.meta.url), 'utf8')),
  );
  return table;
}

export function shapeOf(service: LogService, path: string): Shape | undefined {
  return loadShapes()[service][path];
}

/** True when the path holds objects (an array of them, or an object with known keys). */
export function holdsObjects(service: LogService, path: string): boolean {
  const shape = shapeOf(service, path);
  return shape?.array === 'objects' || shape?.keys !== undefined;
}

/**
 * Rewrites existence tests on object-holding paths with known keys into "any key exists", which every
 * backend can answer from its indexed leaves.
 */
export function expandObjectExists(service: LogService, node: SearchNode): SearchNode {
  switch (node.kind) {
    case 'and':
    case 'or':
      return { ...node, items: node.items.map((i) => expandObjectExists(service, i)) };
    case 'not':
      return { ...node, item: expandObjectExists(service, node.item) };
    case 'match': {
      const keys = node.op === 'exists' ? shapeOf(service, node.field)?.keys : undefined;
      if (!keys) return node;
      const items = keys.map((k): SearchNode => ({ ...node, field: `${node.field}.${k}` }));
      return items.length === 1 ? (items[0] as SearchNode) : { kind: 'or', items };
    }
    default:
      return node;
  }
}
