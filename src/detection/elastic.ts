import { backendValues, mapFieldOrThrow } from './backend.js';
import { RuleCompileError } from './errors.js';
import { type FieldResolver, loadFieldMap, resolverFor } from './fieldmap.js';
import { type StringForm, stringFormOf, stringPatterns, stringRegex } from './flattened.js';
import type { FieldMatch, LogService, Rule, SearchNode, SigmaValue } from './model.js';
import { describe, describeText, type Predicate, type PredicateKind } from './predicate.js';
import type { Segment } from './search.js';
import { expandObjectExists, holdsObjects } from './shapes.js';

/**
 * Search tree -> Elasticsearch query DSL, KQL and ES|QL over the ECS field map. The DSL is what the
 * cross-check runs on a real engine; KQL is what Kibana query/threshold rules carry; ES|QL covers what
 * KQL cannot say (regular expressions, field-to-field comparison, sums over a window).
 *
 * What a Sigma operator means is decided once (predicate.ts); each language below is a dialect that
 * only renders those predicates.
 */
const BACKEND = 'ecs';

function ecsResolver(): FieldResolver {
  return resolverFor(loadFieldMap('ecs'));
}

interface Ctx {
  rule: Rule;
  service: LogService;
  resolve: FieldResolver;
}

/** The field a predicate is rendered on: its name as the dialect writes it, and the match's case rule. */
interface Target {
  name: string;
  cased: boolean;
}

type Renderers<Q> = { [K in PredicateKind]: (p: Extract<Predicate, { kind: K }>, on: Target) => Q };

interface Dialect<Q> {
  name(field: string): string;
  /** The string form a match is asked of instead of its field (see flattened.ts), if any. */
  stringForm(ctx: Ctx, m: FieldMatch): StringForm | undefined;
  render: Renderers<Q>;
  /** The values of one match: one stands alone, several are AND-ed (`|all`) or OR-ed. */
  combine(parts: Q[], all: boolean): Q;
}

function matchQuery<Q>(d: Dialect<Q>, ctx: Ctx, m: FieldMatch): Q {
  const { field, values } = mapped(ctx, m);
  const form = d.stringForm(ctx, m);
  const on = { name: d.name(field), cased: m.cased };
  const ecsField = (f: string) => mapFieldOrThrow(ctx.resolve, BACKEND, ctx.rule, ctx.service, f).field;
  // An existence test is asked once, whatever values it carries.
  const parts = (m.op === 'exists' ? [true] : values).map((v) =>
    render(d, form ? describeText(m, v, form) : describe(m, v, ecsField), on),
  );
  return d.combine(parts, m.all);
}

function render<Q>(d: Dialect<Q>, p: Predicate, on: Target): Q {
  // Renderers is keyed by kind, so the lookup always fits; TypeScript cannot follow that correlation.
  return (d.render[p.kind] as (p: Predicate, on: Target) => Q)(p, on);
}

function mapped(ctx: Ctx, m: FieldMatch) {
  const f = mapFieldOrThrow(ctx.resolve, BACKEND, ctx.rule, ctx.service, m.field);
  // CIDR needs an `ip` field; CloudTrail's sourceIPAddress also holds service names, so its ECS
  // home is source.address and the ip-typed copy is source.ip.
  const field = m.op === 'cidr' && f.field === 'source.address' ? 'source.ip' : f.field;
  // fieldref values name other fields, so this field's value table does not apply to them.
  return { field, values: m.op === 'fieldref' ? m.values : backendValues(f, m) };
}

/**
 * When a match on a flattened sub-field must go to the string form instead (see flattened.ts): the
 * wildcard shapes flattened fields reject (a leading or inner `*`), and an object's existence, which
 * flattened fields do not index. Prefixes stay on the flattened field, which answers prefix queries.
 */
function viaString(ctx: Ctx, m: FieldMatch) {
  const form = stringFormOf(ctx.service, m.field);
  if (!form) return undefined;
  const rejected =
    ['contains', 'endswith', 'wildcard'].includes(m.op) ||
    (m.op === 'exists' && holdsObjects(ctx.service, m.field));
  return rejected ? form : undefined;
}

/** For dialects that match the string form by wildcards: any of its `key=<value>` patterns. */
function anyStringPattern<Q>(d: Dialect<Q>, p: Extract<Predicate, { kind: 'text' }>, cased: boolean): Q {
  const on = { name: d.name(p.form.field), cased };
  return d.combine(
    stringPatterns(p.form, p.segments).map((segments) => d.render.like({ kind: 'like', segments }, on)),
    false,
  );
}

/** Lucene wildcard text of segments (query DSL `wildcard`, ES|QL `LIKE`). */
function luceneSegments(segments: Segment[]): string {
  return segments.map((s) => ('wild' in s ? s.wild : escapeWildcard(s.text))).join('');
}

function escapeWildcard(text: string): string {
  return text.replace(/[\\*?]/g, '\\$&');
}

const COMPARE = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** `(a or b)` for several parts; a lone part needs no parentheses. */
function joinParts(parts: string[], separator: string): string {
  return parts.length === 1 ? (parts[0] as string) : `(${parts.join(separator)})`;
}

function wrap(text: string, top: boolean): string {
  return top ? text : `(${text})`;
}

// ---------------------------------------------------------------- query DSL

export type QueryDsl = Record<string, unknown>;

export function toQueryDsl(rule: Rule, search: SearchNode, service: LogService): QueryDsl {
  return dsl({ rule, service, resolve: ecsResolver() }, expandObjectExists(service, search));
}

function dsl(ctx: Ctx, node: SearchNode): QueryDsl {
  switch (node.kind) {
    case 'and':
      return { bool: { filter: node.items.map((i) => dsl(ctx, i)) } };
    case 'or':
      return { bool: { should: node.items.map((i) => dsl(ctx, i)), minimum_should_match: 1 } };
    case 'not':
      return { bool: { must_not: [dsl(ctx, node.item)] } };
    case 'const':
      return node.value ? { match_all: {} } : { match_none: {} };
    case 'match':
      return matchQuery(DSL, ctx, node);
  }
}

function combine(clauses: QueryDsl[], all: boolean): QueryDsl {
  if (clauses.length === 1) return clauses[0] as QueryDsl;
  return all ? { bool: { filter: clauses } } : { bool: { should: clauses, minimum_should_match: 1 } };
}

function wildcardDsl(field: string, value: string, ci: boolean): QueryDsl {
  return { wildcard: { [field]: { value, case_insensitive: ci } } };
}

const DSL: Dialect<QueryDsl> = {
  name: (field) => field,
  stringForm: viaString,
  combine,
  render: {
    exists: (_, on) => ({ exists: { field: on.name } }),
    // Letters are the only thing case folding changes; leaving it off keeps term queries valid on
    // numeric and ip fields.
    equals: ({ value }, on) =>
      typeof value === 'string' && !on.cased && /[a-z]/i.test(value)
        ? { term: { [on.name]: { value, case_insensitive: true } } }
        : { term: { [on.name]: { value } } },
    cidr: ({ value }, on) => ({ term: { [on.name]: { value: String(value) } } }),
    // A prefix query, not a wildcard: flattened sub-fields answer prefix queries, never wildcard ones.
    prefix: ({ text }, on) => ({ prefix: { [on.name]: { value: text, case_insensitive: !on.cased } } }),
    like: ({ segments }, on) => wildcardDsl(on.name, luceneSegments(segments), !on.cased),
    regex: ({ source }, on) => ({
      regexp: {
        [on.name]: { value: `.*(${luceneRegex(source)}).*`, case_insensitive: !on.cased, flags: 'NONE' },
      },
    }),
    compare: ({ op, value }, on) => ({ range: { [on.name]: { [op]: value } } }),
    fieldref: ({ other }, on) => ({
      script: {
        script: {
          lang: 'painless',
          // Any value of one field equal to any value of the other, as the evaluator compares them.
          source:
            'if (!doc.containsKey(params.a) || !doc.containsKey(params.b) || doc[params.a].size() == 0 || doc[params.b].size() == 0) return false; for (def x : doc[params.a]) { for (def y : doc[params.b]) { if (params.cased ? x.toString().equals(y.toString()) : x.toString().equalsIgnoreCase(y.toString())) return true; } } return false;',
          params: { a: on.name, b: other, cased: on.cased },
        },
      },
    }),
    text: (p, on) => anyStringPattern(DSL, p, on.cased),
  },
};

/** JS-style regex (the portable subset the loader admits) -> Lucene regexp with optional features off. */
export function luceneRegex(re: string): string {
  // With flags NONE the optional operators (@ & < > ~ #) are plain characters, but `"` opens a quoted
  // literal in Lucene and is a plain character in JS, so it is escaped.
  return re.replace(/(?<!\\)"/g, '\\"');
}

// ---------------------------------------------------------------- KQL

export function toKql(rule: Rule, search: SearchNode, service: LogService): string {
  const ctx = { rule, service, resolve: ecsResolver() };
  return kql(ctx, expandObjectExists(service, search), true);
}

function kql(ctx: Ctx, node: SearchNode, top = false): string {
  switch (node.kind) {
    case 'and':
      return wrap(node.items.map((i) => kql(ctx, i)).join(' and '), top);
    case 'or':
      return wrap(node.items.map((i) => kql(ctx, i)).join(' or '), top);
    case 'not':
      return `not ${kql(ctx, node.item)}`;
    case 'const':
      return node.value ? '*' : 'not *';
    case 'match':
      if (node.op === 're' || node.op === 'fieldref') {
        throw new RuleCompileError(`KQL cannot express '${node.op}'`, {
          rule: ctx.rule.id,
          backend: 'kql',
          field: node.field,
        });
      }
      return matchQuery(KQL, ctx, node);
  }
}

function kqlField(field: string): string {
  return field === '@timestamp' ? field : field.replace(/([\\():<>"*\s])/g, '\\$1');
}

function kqlEscape(text: string): string {
  return text.replace(/([\\():<>"*{}\s])/g, '\\$1');
}

/** kql() refuses these operators before a field is mapped; reaching a renderer would be a bug. */
function inexpressible(p: Predicate): never {
  throw new Error(`KQL has no ${p.kind} predicate`);
}

const KQL: Dialect<string> = {
  name: kqlField,
  stringForm: viaString,
  combine: (parts, all) => joinParts(parts, all ? ' and ' : ' or '),
  render: {
    exists: (_, on) => `${on.name}:*`,
    equals: ({ value }, on) =>
      typeof value === 'string' ? `${on.name}: "${value.replace(/["\\]/g, '\\$&')}"` : `${on.name}: ${value}`,
    cidr: (p, on) => KQL.render.equals({ kind: 'equals', value: p.value }, on),
    prefix: ({ text }, on) => `${on.name}: ${kqlEscape(text)}*`,
    // KQL has only `*`: a single-character `?` widens to it.
    like: ({ segments }, on) =>
      `${on.name}: ${segments.map((s) => ('wild' in s ? '*' : kqlEscape(s.text))).join('')}`,
    regex: inexpressible,
    compare: ({ op, value }, on) => `${on.name} ${COMPARE[op]} ${value}`,
    fieldref: inexpressible,
    text: (p, on) => anyStringPattern(KQL, p, on.cased),
  },
};

// ---------------------------------------------------------------- ES|QL

export function toEsqlCondition(rule: Rule, search: SearchNode, service: LogService): string {
  return esql({ rule, service, resolve: ecsResolver() }, expandObjectExists(service, search), true);
}

/**
 * ES|QL comparisons with a missing (or multi-valued) field are null, not false, and `NOT null` is null:
 * under a NOT, a record lacking a field (user.name of a root caller) would be dropped where the
 * evaluator counts the comparison false and keeps it. So predicates under a NOT are COALESCEd to FALSE.
 */
function esql(ctx: Ctx, node: SearchNode, top = false, negated = false): string {
  switch (node.kind) {
    case 'and':
      return wrap(node.items.map((i) => esql(ctx, i, false, negated)).join(' AND '), top);
    case 'or':
      return wrap(node.items.map((i) => esql(ctx, i, false, negated)).join(' OR '), top);
    case 'not':
      return `NOT ${esql(ctx, node.item, false, true)}`;
    case 'const':
      return node.value ? 'TRUE' : 'FALSE';
    case 'match': {
      const predicate = matchQuery(ESQL, ctx, node);
      return negated && node.op !== 'exists' ? `COALESCE(${predicate}, FALSE)` : predicate;
    }
  }
}

function esqlField(field: string): string {
  return /^[A-Za-z_@][\w.@]*$/.test(field) ? field : `\`${field.replace(/`/g, '``')}\``;
}

/** ES|QL cannot read flattened fields: everything on them goes to the string form. */
function esqlStringForm(ctx: Ctx, m: FieldMatch): StringForm | undefined {
  const form = stringFormOf(ctx.service, m.field);
  if (form && !['eq', 'exists', 'contains', 'startswith', 'endswith', 'wildcard'].includes(m.op))
    throw new RuleCompileError(`ES|QL cannot apply '${m.op}' to a flattened field`, {
      rule: ctx.rule.id,
      backend: 'esql',
      field: m.field,
    });
  return form;
}

/** Case-insensitive matches compare lower-cased field text with lower-cased literals. */
const lower = (expr: string, on: Target) => (on.cased ? expr : `TO_LOWER(${expr})`);
const fold = (text: string, on: Target) => (on.cased ? text : text.toLowerCase());
const esqlString = (v: SigmaValue, on: Target) => JSON.stringify(fold(String(v), on));

const ESQL: Dialect<string> = {
  name: esqlField,
  stringForm: esqlStringForm,
  combine: (parts, all) => joinParts(parts, all ? ' AND ' : ' OR '),
  render: {
    exists: (_, on) => `${on.name} IS NOT NULL`,
    equals: ({ value }, on) =>
      typeof value === 'string'
        ? `${lower(on.name, on)} == ${esqlString(value, on)}`
        : `${on.name} == ${value}`,
    cidr: ({ value }, on) => `CIDR_MATCH(${on.name}, ${JSON.stringify(String(value))})`,
    prefix: ({ text }, on) => ESQL.render.like({ kind: 'like', segments: [{ text }, { wild: '*' }] }, on),
    like: ({ segments }, on) => `${lower(on.name, on)} LIKE ${esqlString(luceneSegments(segments), on)}`,
    regex: ({ source }, on) => `${lower(on.name, on)} RLIKE ${JSON.stringify(`.*(${fold(source, on)}).*`)}`,
    compare: ({ op, value }, on) => `${on.name} ${COMPARE[op]} ${value}`,
    fieldref: ({ other }, on) => `${lower(on.name, on)} == ${lower(esqlField(other), on)}`,
    // The string form is a plain keyword, named as stored.
    text: ({ form, segments }, on) =>
      `${lower(form.field, on)} RLIKE ${JSON.stringify(fold(stringRegex(form, segments), on))}`,
  },
};
