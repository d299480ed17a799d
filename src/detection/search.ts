import { ConditionSyntaxError, parseCondition } from './condition.js';
import type { FieldMatch, MatchOp, SearchNode, SigmaValue } from './model.js';

/**
 * Builds the search tree of one Sigma `detection` block. A map is the AND of its fields; a list of
 * maps is the OR of them; a field's list of values is OR-ed unless `|all` is given.
 */
export class DetectionSyntaxError extends Error {
  constructor(
    message: string,
    /** Path inside `detection` (search identifier, field key) for locating the line. */
    readonly path: string[],
  ) {
    super(message);
  }
}

const VALUE_OPS = new Set(['contains', 'startswith', 'endswith', 're', 'cidr', 'exists', 'fieldref']);
const NUMERIC_OPS = new Set(['gt', 'gte', 'lt', 'lte']);
const FLAGS = new Set(['all', 'cased', 'i', 'm', 's']);
/** Regex features Lucene's regexp query lacks; a rule using them could not match the same in every engine. */
const NON_PORTABLE_REGEX = /\\[dDwWsSbB]|\(\?[=!<:]|^\^|(?<!\\)\$$/;

export function buildDetection(detection: Record<string, unknown>): SearchNode {
  const condition = detection.condition;
  if (typeof condition !== 'string') {
    throw new DetectionSyntaxError(
      Array.isArray(condition)
        ? 'condition must be one expression (lists of conditions are deprecated in Sigma)'
        : 'condition is missing',
      ['condition'],
    );
  }
  const searches = new Map<string, SearchNode>();
  for (const [name, body] of Object.entries(detection)) {
    if (name === 'condition' || name === 'timeframe') continue;
    searches.set(name, buildSearch(name, body));
  }
  try {
    return flatten(parseCondition(condition, searches));
  } catch (err) {
    if (err instanceof ConditionSyntaxError)
      throw new DetectionSyntaxError(`condition: ${err.message}`, ['condition']);
    throw err;
  }
}

function buildSearch(name: string, body: unknown): SearchNode {
  if (isMap(body)) return buildMap(name, body);
  if (Array.isArray(body)) {
    if (body.length > 0 && body.every(isMap)) {
      const items = body.map((m) => buildMap(name, m));
      return items.length === 1 ? (items[0] as SearchNode) : { kind: 'or', items };
    }
    throw new DetectionSyntaxError(
      'keyword searches (values without a field) are not supported: name the field they must match',
      [name],
    );
  }
  throw new DetectionSyntaxError('a search identifier must be a map of fields or a list of maps', [name]);
}

function buildMap(name: string, map: Record<string, unknown>): SearchNode {
  const items = Object.entries(map).map(([key, value]) => buildField(name, key, value));
  if (items.length === 0) throw new DetectionSyntaxError('empty search identifier', [name]);
  return items.length === 1 ? (items[0] as SearchNode) : { kind: 'and', items };
}

function buildField(name: string, key: string, raw: unknown): SearchNode {
  const [field, ...modifiers] = key.split('|');
  const path = [name, key];
  if (!field) throw new DetectionSyntaxError('empty field name', path);
  let op: MatchOp = 'eq';
  let all = false;
  let cased = false;
  const reFlags: string[] = [];
  for (const modifier of modifiers) {
    if (VALUE_OPS.has(modifier) || NUMERIC_OPS.has(modifier)) {
      if (op !== 'eq')
        throw new DetectionSyntaxError(`modifiers '${op}' and '${modifier}' cannot be combined`, path);
      op = modifier as MatchOp;
    } else if (FLAGS.has(modifier)) {
      if (modifier === 'all') all = true;
      else if (modifier === 'cased') cased = true;
      else if (op === 're') reFlags.push(modifier);
      else throw new DetectionSyntaxError(`modifier '${modifier}' only applies after 're'`, path);
    } else {
      throw new DetectionSyntaxError(`unsupported modifier '${modifier}'`, path);
    }
  }
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) throw new DetectionSyntaxError('empty value list', path);
  const values: SigmaValue[] = list.map((v) => {
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
    throw new DetectionSyntaxError('values must be strings, numbers, booleans or null', path);
  });

  if (op === 'eq' && values.length === 1 && values[0] === null) {
    // Sigma `field: null` means the field is absent or empty.
    return { kind: 'not', item: match(field, 'exists', [true], false, false) };
  }
  if (values.includes(null)) throw new DetectionSyntaxError('null can only stand alone as a value', path);
  switch (op) {
    case 'exists':
      if (values.length !== 1 || typeof values[0] !== 'boolean') {
        throw new DetectionSyntaxError("'exists' takes true or false", path);
      }
      return values[0]
        ? match(field, 'exists', [true], false, false)
        : { kind: 'not', item: match(field, 'exists', [true], false, false) };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (!values.every((v) => typeof v === 'number'))
        throw new DetectionSyntaxError(`'${op}' takes numbers`, path);
      break;
    case 're':
      for (const v of values) {
        if (typeof v !== 'string') throw new DetectionSyntaxError("'re' takes strings", path);
        if (NON_PORTABLE_REGEX.test(v)) {
          throw new DetectionSyntaxError(
            `regex '${v}' uses a feature not every backend has (\\d, \\w, \\s, \\b, lookaround, anchors): use character classes`,
            path,
          );
        }
        try {
          new RegExp(v);
        } catch (err) {
          throw new DetectionSyntaxError(`invalid regex '${v}': ${(err as Error).message}`, path);
        }
      }
      if (reFlags.length > 0) {
        if (reFlags.some((f) => f !== 'i'))
          throw new DetectionSyntaxError("only the 'i' regex flag is supported", path);
        cased = false;
      } else {
        cased = true; // Sigma regexes are case-sensitive unless flagged `i`
      }
      break;
    case 'cidr':
    case 'fieldref':
      if (!values.every((v) => typeof v === 'string'))
        throw new DetectionSyntaxError(`'${op}' takes strings`, path);
      break;
    default:
      if (op === 'eq') {
        if (values.some((v) => typeof v === 'string' && hasWildcard(v))) {
          const plain = values.filter((v) => !(typeof v === 'string' && hasWildcard(v)));
          const wild = values.filter((v) => typeof v === 'string' && hasWildcard(v));
          if (all) return { kind: 'and', items: values.map((v) => valueNode(field, v, all, cased)) };
          const nodes: SearchNode[] = [];
          if (plain.length > 0) nodes.push(match(field, 'eq', plain.map(unescapeValue), false, cased));
          nodes.push(match(field, 'wildcard', wild, false, cased));
          return nodes.length === 1 ? (nodes[0] as SearchNode) : { kind: 'or', items: nodes };
        }
      } else if (values.some((v) => typeof v === 'string' && hasWildcard(v))) {
        // contains/startswith/endswith with inner wildcards: fold into one wildcard pattern.
        const patterns = values.map((v) => {
          const s = String(v);
          return op === 'contains' ? `*${s}*` : op === 'startswith' ? `${s}*` : `*${s}`;
        });
        return match(field, 'wildcard', patterns, all, cased);
      }
      return match(field, op, values.map(unescapeValue), all, cased);
  }
  return match(field, op, values, all, cased);
}

function valueNode(field: string, v: SigmaValue, all: boolean, cased: boolean): SearchNode {
  return typeof v === 'string' && hasWildcard(v)
    ? match(field, 'wildcard', [v], all, cased)
    : match(field, 'eq', [unescapeValue(v)], all, cased);
}

function match(field: string, op: MatchOp, values: SigmaValue[], all: boolean, cased: boolean): FieldMatch {
  return { kind: 'match', field, op, values, all: all && values.length > 1, cased };
}

/** True when the string holds an unescaped `*` or `?`. */
export function hasWildcard(value: string): boolean {
  return parseWildcard(value).some((s) => 'wild' in s);
}

export type Segment = { wild: '*' | '?' } | { text: string };

/** Splits a Sigma string into literal text and wildcards; `\*`, `\?` and `\\` are literal. */
export function parseWildcard(value: string): Segment[] {
  const out: Segment[] = [];
  let text = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\' && i + 1 < value.length && '*?\\'.includes(value[i + 1] as string)) {
      text += value[i + 1];
      i++;
    } else if (c === '*' || c === '?') {
      if (text) out.push({ text });
      text = '';
      out.push({ wild: c });
    } else {
      text += c;
    }
  }
  if (text) out.push({ text });
  return out;
}

function unescapeValue(v: SigmaValue): SigmaValue {
  if (typeof v !== 'string') return v;
  return parseWildcard(v)
    .map((s) => ('wild' in s ? s.wild : s.text))
    .join('');
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `a and (b and c)` -> `a and b and c` (same for or), so compiled queries carry no needless nesting. */
export function flatten(node: SearchNode): SearchNode {
  if (node.kind === 'not') return { kind: 'not', item: flatten(node.item) };
  if (node.kind !== 'and' && node.kind !== 'or') return node;
  const items = node.items.map(flatten).flatMap((i) => (i.kind === node.kind ? i.items : [i]));
  return { kind: node.kind, items };
}
