import ipaddr from 'ipaddr.js';
import type { FieldMatch, SigmaValue } from './model.js';
import { parseWildcard } from './search.js';

/**
 * Sigma value semantics on one document field, compiled once per rule into tests over documents (the
 * evaluator runs every rule on every record, so nothing is decided per record that can be decided per
 * rule). A field's values are its leaf values (arrays already flattened, as Elasticsearch indexes them); a
 * match needs one of them to satisfy the comparison. Strings compare case-insensitively unless `cased`;
 * numbers and booleans compare by their text, the way a keyword/flattened field holds them.
 */
export type Leaf = string | number | boolean;

/** Reads a field's values from a document. */
export interface FieldReader {
  /** Leaf values at the path, descending through arrays. */
  values(doc: unknown): Leaf[];
  /** Whether anything (a value or an object with values) is at the path, as Elasticsearch's `exists` sees it. */
  exists(doc: unknown): boolean;
}

export type DocumentTest = (doc: Record<string, unknown>) => boolean;

/**
 * One field condition as a test over documents. `ref` gives the reader of another field (Sigma's
 * `fieldref`, which compares with that field's values in the same document).
 */
export function compileMatch(
  m: FieldMatch,
  field: FieldReader,
  ref: (field: string) => FieldReader,
): DocumentTest {
  if (m.op === 'exists') return (doc) => field.exists(doc);
  if (m.op === 'fieldref') {
    const others = m.values.map((f) => ref(String(f)));
    return (doc) => {
      const mine = field.values(doc).map((v) => norm(v, m.cased));
      const shares = (other: FieldReader) => other.values(doc).some((o) => mine.includes(norm(o, m.cased)));
      return m.all ? others.every(shares) : others.some(shares);
    };
  }
  if (m.op === 'eq' && !m.all) {
    // The common case (event names, sources, types): one set lookup per value, whatever the list's length.
    const wanted = new Set(m.values.map((v) => norm(v as Leaf, m.cased)));
    return (doc) => {
      for (const v of field.values(doc)) if (wanted.has(norm(v, m.cased))) return true;
      return false;
    };
  }
  const tests = m.values.map((value) => testFor(m, value));
  return (doc) => {
    const values = field.values(doc);
    return m.all ? tests.every((t) => values.some(t)) : tests.some((t) => values.some(t));
  };
}

type Test = (v: Leaf) => boolean;

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
        const addr = typeof v === 'string' ? addressOf(v) : undefined;
        return addr !== undefined && addr.kind() === range[0].kind() && addr.match(range);
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

type Address = ipaddr.IPv4 | ipaddr.IPv6;
/** Parsed addresses, shared by every CIDR test: one record's address meets many rules, and addresses repeat. */
const addresses = new Map<string, Address | null>();
const MAX_ADDRESSES = 10_000;

/**
 * An address as Elasticsearch's ip type reads it (IPv4-mapped IPv6 as IPv4), or undefined. Anonymised or
 * service-name addresses (`ec2.amazonaws.com`, `211.9.016.253`) simply do not match. Strict forms only:
 * ipaddr.js would read `10.01.2.3` as octal, Elasticsearch's ip type refuses it.
 */
function addressOf(text: string): Address | undefined {
  let addr = addresses.get(text);
  if (addr === undefined) {
    addr = parseAddress(text);
    if (addresses.size >= MAX_ADDRESSES) addresses.clear();
    addresses.set(text, addr);
  }
  return addr ?? undefined;
}

function parseAddress(text: string): Address | null {
  try {
    if (text.includes(':')) {
      if (!ipaddr.IPv6.isValid(text)) return null;
      const six = ipaddr.IPv6.parse(text);
      return six.isIPv4MappedAddress() ? six.toIPv4Address() : six;
    }
    return ipaddr.IPv4.isValidFourPartDecimal(text) ? ipaddr.IPv4.parse(text) : null;
  } catch {
    return null;
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

/**
 * The reader of a dotted path. Dotted keys stored flat resolve too (`{"a.b": 1}` as well as `{a: {b: 1}}`),
 * longest key first; the keys to try at each depth are joined once here, not per document.
 */
export function fieldReader(path: string): FieldReader {
  const parts = path.split('.');
  const keysFrom: { key: string; next: number }[][] = parts.map((_, i) => {
    const keys = [];
    for (let j = parts.length; j > i; j--) keys.push({ key: parts.slice(i, j).join('.'), next: j });
    return keys;
  });
  const collect = (node: unknown, i: number, out: Leaf[], objects: boolean): void => {
    if (node === null || node === undefined) return;
    if (Array.isArray(node)) {
      for (const item of node) collect(item, i, out, objects);
      return;
    }
    if (i === parts.length) {
      if (typeof node === 'string' || typeof node === 'number' || typeof node === 'boolean') out.push(node);
      else if (objects && typeof node === 'object' && hasLeaf(node)) out.push(true);
      return;
    }
    if (typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    for (const { key, next } of keysFrom[i]!) if (key in obj) collect(obj[key], next, out, objects);
  };
  return {
    values(doc) {
      const out: Leaf[] = [];
      collect(doc, 0, out, false);
      return out;
    },
    exists(doc) {
      const out: Leaf[] = [];
      collect(doc, 0, out, true);
      return out.length > 0;
    },
  };
}

function hasLeaf(node: unknown): boolean {
  if (node === null || node === undefined) return false;
  if (Array.isArray(node)) return node.some(hasLeaf);
  if (typeof node === 'object') return Object.values(node).some(hasLeaf);
  return true;
}
