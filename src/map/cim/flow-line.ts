import { FLOW_FIELDS } from '../../decode/tables.js';
import type { FlowFields } from '../../types.js';

/**
 * How a flow line goes to Splunk: `addon` (the default) rewrites lines in a field order the Splunk Add-on
 * for AWS cannot read into one it can; `as-written` sends every line exactly as AWS wrote it.
 */
export type FlowLineOrder = 'addon' | 'as-written';

/** Every field AWS documents, in AWS's own order: the default v2 fields first, then as versions added them. */
const AWS_ORDER: readonly string[] = [...FLOW_FIELDS.keys()];
const V2_WIDTH = 14;

/**
 * The order to send a layout's lines in, or `undefined` when the add-on reads them as they are. The add-on
 * extracts a flow line by position (its `EXTRACT-vpcflowlog*` regexes): the first 14 tokens in AWS's
 * default order, or 29 in its v5 "all fields" order, which begins with the default one. A line in any other
 * order would give its search-time fields wrong values (a VPC id as `src_ip`), shown beside or instead of
 * our right indexed fields. So a layout that is not AWS's order from the start (all fields up to some
 * version, at least the 14 default ones) goes in AWS's order, as far as the last field it has; a field AWS
 * does not document goes after that. Every value is kept; `-` stands where the layout has no such field,
 * as AWS itself writes an absent one.
 */
function addonOrder(layout: readonly string[]): readonly string[] | undefined {
  if (layout.length >= V2_WIDTH && layout.every((name, i) => name === AWS_ORDER[i])) return undefined;
  const has = new Set(layout);
  let width = V2_WIDTH;
  AWS_ORDER.forEach((name, i) => {
    if (has.has(name)) width = Math.max(width, i + 1);
  });
  const known = new Set(AWS_ORDER);
  return [...AWS_ORDER.slice(0, width), ...layout.filter((name) => !known.has(name))];
}

// Layouts are shared arrays (one per header or known layout), so each is worked out once.
const orders = new WeakMap<readonly string[], readonly string[] | null>();

/** The flow line to send as the event's text, given the field names of its format in the line's order. */
export function flowLineFor(layout: readonly string[], fields: FlowFields, line: string): string {
  let order = orders.get(layout);
  if (order === undefined) {
    order = addonOrder(layout) ?? null;
    orders.set(layout, order);
  }
  if (order === null) return line;
  let out = fields[order[0] as string] ?? '-';
  for (let i = 1; i < order.length; i++) out += ` ${fields[order[i] as string] ?? '-'}`;
  return out;
}
