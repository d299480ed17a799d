import { RuleCompileError } from './errors.js';
import { type FieldResolver, type MappedField, translateValue } from './fieldmap.js';
import type { FieldMatch, LogService, Rule, SearchNode, SigmaValue } from './model.js';

/** Shared by the compilers: resolve a field for a backend or fail naming rule, field and backend. */
export function mapFieldOrThrow(
  resolve: FieldResolver,
  backend: string,
  rule: Rule,
  service: LogService,
  field: string,
): MappedField {
  const mapped = resolve(service, field);
  if (!mapped)
    throw new RuleCompileError(`field '${field}' has no ${backend} mapping`, {
      rule: rule.id,
      backend,
      field,
    });
  return mapped;
}

/** Values after the backend's value table (e.g. flow `REJECT` -> ECS `failure`). */
export function backendValues(mapped: MappedField, m: FieldMatch): SigmaValue[] {
  return m.values.map((v) => translateValue(mapped, v));
}

/** True when any match in the tree satisfies `test`. */
export function someMatch(node: SearchNode, test: (m: FieldMatch) => boolean): boolean {
  switch (node.kind) {
    case 'match':
      return test(node);
    case 'and':
    case 'or':
      return node.items.some((i) => someMatch(i, test));
    case 'not':
      return someMatch(node.item, test);
    default:
      return false;
  }
}

/** True when any match in the tree uses one of the given operators. */
export function usesOp(node: SearchNode, ops: readonly FieldMatch['op'][]): boolean {
  return someMatch(node, (m) => ops.includes(m.op));
}

/** Fields a rule reads, for required_fields and investigation hints. */
export function fieldsOf(node: SearchNode, out = new Set<string>()): Set<string> {
  if (node.kind === 'match') {
    out.add(node.field);
    if (node.op === 'fieldref') for (const v of node.values) out.add(String(v));
  } else if (node.kind === 'and' || node.kind === 'or') for (const i of node.items) fieldsOf(i, out);
  else if (node.kind === 'not') fieldsOf(node.item, out);
  return out;
}
