import { backendValues, mapFieldOrThrow } from './backend.js';
import { RuleCompileError } from './errors.js';
import { type FieldResolver, loadFieldMap, resolverFor } from './fieldmap.js';
import { stringFormOf, stringPatterns, stringRegex, valueSegments } from './flattened.js';
import type { FieldMatch, LogService, Rule, SearchNode, SigmaValue } from './model.js';
import { parseWildcard, type Segment } from './search.js';
import { expandObjectExists, holdsObjects } from './shapes.js';

/**
 * Search tree -> Elasticsearch query DSL, KQL and ES|QL over the ECS field map. The DSL is what the
 * cross-check runs on a real engine; KQL is what Kibana query/threshold rules carry; ES|QL covers what
 * KQL cannot say (regular expressions, field-to-field comparison, sums over a window).
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

function mapped(ctx: Ctx, m: FieldMatch) {
  const f = mapFieldOrThrow(ctx.resolve, BACKEND, ctx.rule, ctx.service, m.field);
  // CIDR needs an `ip` field; CloudTrail's sourceIPAddress also holds service names, so its ECS
  // home is source.address and the ip-typed copy is source.ip.
  const field = m.op === 'cidr' && f.field === 'source.address' ? 'source.ip' : f.field;
  return { field, values: backendValues(f, m) };
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

/** Lucene wildcard text of segments (query DSL `wildcard`). */
function luceneSegments(segments: Segment[]): string {
  return segments.map((s) => ('wild' in s ? s.wild : escapeWildcard(s.text))).join('');
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
    case 'match': {
      const { field, values } = mapped(ctx, node);
      const form = viaString(ctx, node);
      if (form) {
        const perValue = (node.op === 'exists' ? [true] : values).map((v) =>
          combine(
            stringPatterns(form, valueSegments(node, v)).map((p) =>
              wildcardDsl(form.field, luceneSegments(p), !node.cased),
            ),
            false,
          ),
        );
        return combine(perValue, node.all);
      }
      if (node.op === 'exists') return { exists: { field } };
      if (node.op === 'fieldref') {
        const others = node.values.map(
          (v) => mapFieldOrThrow(ctx.resolve, BACKEND, ctx.rule, ctx.service, String(v)).field,
        );
        const clauses = others.map((other) => ({
          script: {
            script: {
              lang: 'painless',
              // Any value of one field equal to any value of the other, as the evaluator compares them.
              source:
                'if (!doc.containsKey(params.a) || !doc.containsKey(params.b) || doc[params.a].size() == 0 || doc[params.b].size() == 0) return false; for (def x : doc[params.a]) { for (def y : doc[params.b]) { if (params.cased ? x.toString().equals(y.toString()) : x.toString().equalsIgnoreCase(y.toString())) return true; } } return false;',
              params: { a: field, b: other, cased: node.cased },
            },
          },
        }));
        return combine(clauses, node.all);
      }
      return combine(
        values.map((v) => valueDsl(node, field, v)),
        node.all,
      );
    }
  }
}

function combine(clauses: QueryDsl[], all: boolean): QueryDsl {
  if (clauses.length === 1) return clauses[0] as QueryDsl;
  return all ? { bool: { filter: clauses } } : { bool: { should: clauses, minimum_should_match: 1 } };
}

function valueDsl(m: FieldMatch, field: string, value: SigmaValue): QueryDsl {
  const ci = !m.cased;
  switch (m.op) {
    case 'eq':
      // Letters are the only thing case folding changes; leaving it off keeps term queries valid on
      // numeric and ip fields.
      return typeof value === 'string' && ci && /[a-z]/i.test(value)
        ? { term: { [field]: { value, case_insensitive: true } } }
        : { term: { [field]: { value } } };
    case 'contains':
      return wildcardDsl(field, `*${escapeWildcard(String(value))}*`, ci);
    case 'startswith':
      // A prefix query, not a wildcard: flattened sub-fields answer prefix queries, never wildcard ones.
      return { prefix: { [field]: { value: String(value), case_insensitive: ci } } };
    case 'endswith':
      return wildcardDsl(field, `*${escapeWildcard(String(value))}`, ci);
    case 'wildcard':
      return wildcardDsl(field, luceneWildcard(String(value)), ci);
    case 're':
      return {
        regexp: {
          [field]: { value: `.*(${luceneRegex(String(value))}).*`, case_insensitive: ci, flags: 'NONE' },
        },
      };
    case 'cidr':
      return { term: { [field]: { value: String(value) } } };
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return { range: { [field]: { [m.op]: value } } };
    default:
      throw new Error(`unhandled operator ${m.op}`);
  }
}

function wildcardDsl(field: string, value: string, ci: boolean): QueryDsl {
  return { wildcard: { [field]: { value, case_insensitive: ci } } };
}

function escapeWildcard(text: string): string {
  return text.replace(/[\\*?]/g, '\\$&');
}

function luceneWildcard(pattern: string): string {
  return parseWildcard(pattern)
    .map((s) => ('wild' in s ? s.wild : escapeWildcard(s.text)))
    .join('');
}

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
    case 'match': {
      if (node.op === 're' || node.op === 'fieldref') {
        throw new RuleCompileError(`KQL cannot express '${node.op}'`, {
          rule: ctx.rule.id,
          backend: 'kql',
          field: node.field,
        });
      }
      const { field, values } = mapped(ctx, node);
      const form = viaString(ctx, node);
      if (form) {
        const perValue = (node.op === 'exists' ? [true] : values).map((v) => {
          const alts = stringPatterns(form, valueSegments(node, v)).map(
            (p) =>
              `${kqlField(form.field)}: ${p.map((s) => ('wild' in s ? '*' : kqlEscape(s.text))).join('')}`,
          );
          return alts.length === 1 ? (alts[0] as string) : `(${alts.join(' or ')})`;
        });
        if (perValue.length === 1) return perValue[0] as string;
        return `(${perValue.join(node.all ? ' and ' : ' or ')})`;
      }
      const name = kqlField(field);
      if (node.op === 'exists') return `${name}:*`;
      const parts = values.map((v) => {
        switch (node.op) {
          case 'gt':
            return `${name} > ${v}`;
          case 'gte':
            return `${name} >= ${v}`;
          case 'lt':
            return `${name} < ${v}`;
          case 'lte':
            return `${name} <= ${v}`;
          case 'contains':
            return `${name}: *${kqlEscape(String(v))}*`;
          case 'startswith':
            return `${name}: ${kqlEscape(String(v))}*`;
          case 'endswith':
            return `${name}: *${kqlEscape(String(v))}`;
          case 'wildcard':
            // KQL has only `*`: a single-character `?` widens to it.
            return `${name}: ${parseWildcard(String(v))
              .map((s) => ('wild' in s ? '*' : kqlEscape(s.text)))
              .join('')}`;
          default:
            return typeof v === 'string' ? `${name}: "${v.replace(/["\\]/g, '\\$&')}"` : `${name}: ${v}`;
        }
      });
      if (parts.length === 1) return parts[0] as string;
      return `(${parts.join(node.all ? ' and ' : ' or ')})`;
    }
  }
}

function wrap(text: string, top: boolean): string {
  return top ? text : `(${text})`;
}

function kqlField(field: string): string {
  return field === '@timestamp' ? field : field.replace(/([\\():<>"*\s])/g, '\\$1');
}

function kqlEscape(text: string): string {
  return text.replace(/([\\():<>"*{}\s])/g, '\\$1');
}

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
      const predicate = esqlMatch(ctx, node);
      return negated && node.op !== 'exists' ? `COALESCE(${predicate}, FALSE)` : predicate;
    }
  }
}

function esqlMatch(ctx: Ctx, node: FieldMatch): string {
  const { field, values } = mapped(ctx, node);
  // ES|QL cannot read flattened fields: everything on them goes to the string form.
  const form = stringFormOf(ctx.service, node.field);
  if (form) {
    if (!['eq', 'exists', 'contains', 'startswith', 'endswith', 'wildcard'].includes(node.op))
      throw new RuleCompileError(`ES|QL cannot apply '${node.op}' to a flattened field`, {
        rule: ctx.rule.id,
        backend: 'esql',
        field: node.field,
      });
    const text = node.cased ? form.field : `TO_LOWER(${form.field})`;
    const parts = (node.op === 'exists' ? [true] : values).map((v) => {
      const re = stringRegex(form, valueSegments(node, v));
      return `${text} RLIKE ${JSON.stringify(node.cased ? re : re.toLowerCase())}`;
    });
    return parts.length === 1 ? (parts[0] as string) : `(${parts.join(node.all ? ' AND ' : ' OR ')})`;
  }
  const name = esqlField(field);
  const lower = (expr: string) => (node.cased ? expr : `TO_LOWER(${expr})`);
  const str = (v: SigmaValue) => JSON.stringify(node.cased ? String(v) : String(v).toLowerCase());
  if (node.op === 'exists') return `${name} IS NOT NULL`;
  const parts = values.map((v) => {
    switch (node.op) {
      case 'fieldref':
        return `${lower(name)} == ${lower(esqlField(mapFieldOrThrow(ctx.resolve, BACKEND, ctx.rule, ctx.service, String(v)).field))}`;
      case 'gt':
        return `${name} > ${v}`;
      case 'gte':
        return `${name} >= ${v}`;
      case 'lt':
        return `${name} < ${v}`;
      case 'lte':
        return `${name} <= ${v}`;
      case 'cidr':
        return `CIDR_MATCH(${name}, ${JSON.stringify(String(v))})`;
      case 're':
        return `${node.cased ? name : `TO_LOWER(${name})`} RLIKE ${JSON.stringify(`.*(${node.cased ? v : String(v).toLowerCase()}).*`)}`;
      case 'contains':
        return `${lower(name)} LIKE ${str(`*${escapeWildcard(String(v))}*`)}`;
      case 'startswith':
        return `${lower(name)} LIKE ${str(`${escapeWildcard(String(v))}*`)}`;
      case 'endswith':
        return `${lower(name)} LIKE ${str(`*${escapeWildcard(String(v))}`)}`;
      case 'wildcard':
        return `${lower(name)} LIKE ${str(luceneWildcard(String(v)))}`;
      default:
        return typeof v === 'string' ? `${lower(name)} == ${str(v)}` : `${name} == ${v}`;
    }
  });
  if (parts.length === 1) return parts[0] as string;
  return `(${parts.join(node.all ? ' AND ' : ' OR ')})`;
}

function esqlField(field: string): string {
  return /^[A-Za-z_@][\w.@]*$/.test(field) ? field : `\`${field.replace(/`/g, '``')}\``;
}
