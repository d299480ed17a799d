import ipaddr from 'ipaddr.js';
import type { FieldMatch, SigmaValue } from './model.js';
import { parseWildcard } from './search.js';

/**
 * Sigma value semantics on one document field. `values` are the field's leaf values (arrays already
 * flattened, as Elasticsearch indexes them); a match needs one of them to satisfy the comparison.
 * Strings compare case-insensitively unless `cased`; numbers and booleans compare by their text, the way
 * a keyword/flattened field holds them.
 */
export type Leaf = string | number | boolean;

export function matchField(m: FieldMatch, values: Leaf[], ref: (field: string) => Leaf[]): boolean {
  if (m.op === 'exists') return values.length > 0;
  const test = compile(m, ref);
  return m.all ? test.every((t) => values.some(t)) : test.some((t) => values.some(t));
}

type Test = (v: Leaf) => boolean;

const compiled = new WeakMap<FieldMatch, Test[]>();

function compile(m: FieldMatch, ref: (field: string) => Leaf[]): Test[] {
  if (m.op === 'fieldref') {
    // Depends on the document, so never cached.
    return m.values.map((f) => {
      const others = ref(String(f)).map((o) => norm(o, m.cased));
      return (v: Leaf) => others.includes(norm(v, m.cased));
    });
  }
  let tests = compiled.get(m);
  if (!tests) {
    tests = m.values.map((value) => testFor(m, value));
    compiled.set(m, tests);
  }
  return tests;
}

function norm(v: Leaf, cased: boolean): string {
  const s = String(v);
  return cased ? s : s.toLowerCase();
}

function testFor(m: FieldMatch, value: SigmaValue): Test {
  const want = norm(value as Leaf, m.cased);
  switch (m.op) {
    case 'eq':
      return (v) => norm(v, m.cased) === want;
    case 'contains':
      return (v) => norm(v, m.cased).includes(want);
    case 'startswith':
      return (v) => norm(v, m.cased).startsWith(want);
    case 'endswith':
      return (v) => norm(v, m.cased).endsWith(want);
    case 'wildcard': {
      const re = wildcardRegExp(String(value), m.cased);
      return (v) => re.test(String(v));
    }
    case 're': {
      const re = new RegExp(String(value), m.cased ? 'u' : 'iu');
      return (v) => re.test(String(v));
    }
    case 'cidr': {
      const range = ipaddr.parseCIDR(String(value));
      return (v) => {
        // Anonymised or service-name addresses (`ec2.amazonaws.com`, `211.9.016.253`) simply do not match.
        // Strict forms only: ipaddr.js would read `10.01.2.3` as octal, Elasticsearch's ip type refuses it.
        if (
          typeof v !== 'string' ||
          !(v.includes(':') ? ipaddr.IPv6.isValid(v) : ipaddr.IPv4.isValidFourPartDecimal(v))
        ) {
          return false;
        }
        try {
          const addr = ipaddr.parse(v);
          const plain =
            addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()
              ? (addr as ipaddr.IPv6).toIPv4Address()
              : addr;
          return plain.kind() === range[0].kind() && plain.match(range);
        } catch {
          return false;
        }
      };
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte': {
      const bound = Number(value);
      return (v) => {
        const n =
          typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
        if (Number.isNaN(n)) return false;
        return m.op === 'gt'
          ? n > bound
          : m.op === 'gte'
            ? n >= bound
            : m.op === 'lt'
              ? n < bound
              : n <= bound;
      };
    }
    default:
      throw new Error(`unhandled operator ${m.op}`);
  }
}

export function wildcardRegExp(pattern: string, cased: boolean): RegExp {
  const body = parseWildcard(pattern)
    .map((s) =>
      'wild' in s
        ? s.wild === '*'
          ? '[\\s\\S]*'
          : '[\\s\\S]'
        : s.text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${body}$`, cased ? 'u' : 'iu');
}

/** Leaf values at a dotted path, descending through arrays; dotted keys (`a.b` stored flat) also resolve. */
export function valuesAt(doc: unknown, path: string): Leaf[] {
  const out: Leaf[] = [];
  collect(doc, path.split('.'), 0, out);
  return out;
}

/** Whether anything (a value or an object with values) is at the path, as Elasticsearch's `exists` sees it. */
export function existsAt(doc: unknown, path: string): boolean {
  const out: Leaf[] = [];
  collect(doc, path.split('.'), 0, out, true);
  return out.length > 0;
}

function collect(node: unknown, parts: string[], i: number, out: Leaf[], objects = false): void {
  if (node === null || node === undefined) return;
  if (Array.isArray(node)) {
    for (const item of node) collect(item, parts, i, out, objects);
    return;
  }
  if (i === parts.length) {
    if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') out.push(node);
    else if (objects && typeof node === 'object' && hasLeaf(node)) out.push(true);
    return;
  }
  if (typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  // Try the longest dotted key first so `{"a.b": 1}` and `{a: {b: 1}}` both resolve.
  for (let j = parts.length; j > i; j--) {
    const key = parts.slice(i, j).join('.');
    if (key in obj) collect(obj[key], parts, j, out, objects);
  }
}

function hasLeaf(node: unknown): boolean {
  if (node === null || node === undefined) return false;
  if (Array.isArray(node)) return node.some(hasLeaf);
  if (typeof node === 'object') return Object.values(node).some(hasLeaf);
  return true;
}
