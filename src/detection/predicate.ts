import { type StringForm, valueSegments } from './flattened.js';
import type { FieldMatch, SigmaValue } from './model.js';
import type { Segment } from './search.js';

/**
 * What one value of a field match asks, before any query language is chosen: the one place a Sigma
 * operator is given its meaning for the compilers. A new modifier maps onto these kinds here; only a new
 * kind needs each dialect to learn to render it (the compiler enforces that).
 */
export type Predicate =
  | { kind: 'exists' }
  | { kind: 'equals'; value: SigmaValue }
  /** Kept apart from `equals`: it needs an ip-typed field and never folds case. */
  | { kind: 'cidr'; value: SigmaValue }
  /** Kept apart from `like`: some stores answer prefixes where they refuse wildcards (flattened fields). */
  | { kind: 'prefix'; text: string }
  | { kind: 'like'; segments: Segment[] }
  /** Unanchored: matches when the regex matches anywhere in the value. */
  | { kind: 'regex'; source: string }
  | { kind: 'compare'; op: 'gt' | 'gte' | 'lt' | 'lte'; value: SigmaValue }
  /** Equal to a value of another field, already in the backend's naming. */
  | { kind: 'fieldref'; other: string }
  /** The whole-value pattern asked of a flattened blob's string form instead of the field (flattened.ts). */
  | { kind: 'text'; form: StringForm; segments: Segment[] };

export type PredicateKind = Predicate['kind'];

/** One value's predicate; `mapField` names a `fieldref` target in the backend's fields. */
export function describe(
  m: FieldMatch,
  value: SigmaValue,
  mapField: (sigmaField: string) => string,
): Predicate {
  switch (m.op) {
    case 'exists':
      return { kind: 'exists' };
    case 'eq':
      return { kind: 'equals', value };
    case 'cidr':
      return { kind: 'cidr', value };
    case 'startswith':
      return { kind: 'prefix', text: String(value) };
    case 'contains':
    case 'endswith':
    case 'wildcard':
      return { kind: 'like', segments: valueSegments(m, value) };
    case 're':
      return { kind: 'regex', source: String(value) };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return { kind: 'compare', op: m.op, value };
    case 'fieldref':
      return { kind: 'fieldref', other: mapField(String(value)) };
  }
}

/** The predicate on a string form: the value's whole pattern (an existence test is any value). */
export function describeText(m: FieldMatch, value: SigmaValue, form: StringForm): Predicate {
  return { kind: 'text', form, segments: valueSegments(m, value) };
}
