import { splunkIndexTerm } from '../splunk-index.js';
import { mapFieldOrThrow, someMatch, usesOp } from './backend.js';
import { RuleCompileError } from './errors.js';
import { type FieldResolver, loadFieldMap, resolverFor, translateValue } from './fieldmap.js';
import { selectionOf } from './kibana.js';
import type { FieldMatch, Level, LogService, Rule, SearchNode, SigmaValue } from './model.js';
import { parseWildcard } from './search.js';
import { expandObjectExists, holdsObjects, shapeOf } from './shapes.js';

/**
 * Sigma rule -> SPL over the Splunk Add-on for AWS's fields, and the saved search (scheduled alert with
 * a webhook action to our receiver) that runs it. Plain searches stay in the `search` command, where
 * Splunk compares field values case-insensitively like Sigma; regexes and field references need `where`.
 */
const BACKEND = 'splunk';

/** Substituted by `rules install` from the environment; left as is in built packages. */
export const WEBHOOK_TOKEN_PLACEHOLDER = '$ASC_WEBHOOK_TOKEN$';

export interface SplOptions {
  /** Base URL of our webhook receiver, e.g. https://asc.example.com:8443 */
  webhookUrl?: string | undefined;
  /**
   * Indexes the saved searches read (`index IN (…)`); without them a search reads the indexes its role
   * searches by default, which per-type or per-account indexes usually are not.
   */
  indexes?: readonly string[] | undefined;
}

interface Ctx {
  rule: Rule;
  service: LogService;
  resolve: FieldResolver;
}

function context(rule: Rule): Ctx {
  return { rule, service: rule.service, resolve: resolverFor(loadFieldMap('splunk')) };
}

interface SplField {
  name: string;
  values?: Record<string, string>;
  /** What the add-on reads when the record lacks the field (it coalesces it), if anything. */
  absentAs?: string;
}

function splField(ctx: Ctx, sigmaField: string): SplField {
  const map = loadFieldMap('splunk')[ctx.service];
  const exact = map.fields[sigmaField];
  if (exact === undefined && ctx.service === 'vpcflow')
    mapFieldOrThrow(() => undefined, BACKEND, ctx.rule, ctx.service, sigmaField);
  const mapped =
    exact === undefined ? { field: sigmaField } : typeof exact === 'string' ? { field: exact } : exact;
  // spath names the items of a JSON array `name{}` (values) and their keys `name{}.key` (objects): mark
  // every segment whose path is an array. Raw CloudTrail names only: mapped names have no shapes.
  const segments = mapped.field.split('.');
  const name = segments
    .map((segment, i) =>
      exact === undefined && shapeOf(ctx.service, segments.slice(0, i + 1).join('.'))?.array
        ? `${segment}{}`
        : segment,
    )
    .join('.');
  return {
    name,
    values: 'values' in mapped ? mapped.values : undefined,
    absentAs: map.defaults[sigmaField],
  };
}

/** A match on a path that holds objects names no field spath extracts: only its keys are fields. */
function checkLeaf(ctx: Ctx, m: FieldMatch): void {
  if (holdsObjects(ctx.service, m.field))
    throw new RuleCompileError(
      `'${m.field}' holds objects, which have no field of their own: test one of their keys (or list the keys in mappings/detection/shapes.yml)`,
      { rule: ctx.rule.id, backend: BACKEND, field: m.field },
    );
}

/** For an existence test on a field the add-on coalesces: its name and the value absence reads as. */
function absentTest(ctx: Ctx, node: SearchNode): { name: string; value: string } | undefined {
  if (node.kind !== 'match' || node.op !== 'exists') return undefined;
  const f = splField(ctx, node.field);
  return f.absentAs === undefined ? undefined : { name: f.name, value: f.absentAs };
}

/** True when a value asks for a literal `*`, which the search command would read as a wildcard. */
function hasLiteralStar(m: FieldMatch): boolean {
  if (m.op === 'wildcard')
    return m.values.some((v) => parseWildcard(String(v)).some((s) => 'text' in s && s.text.includes('*')));
  return (
    ['eq', 'contains', 'startswith', 'endswith'].includes(m.op) &&
    m.values.some((v) => String(v).includes('*'))
  );
}

/** The SPL query of a rule (without scheduling); `window` adds search terms after the base search. */
export function compileSpl(rule: Rule, window = ''): string {
  const ctx = context(rule);
  const base = [loadFieldMap('splunk')[rule.service].base ?? '', window].filter(Boolean).join(' ');
  const selection = expandObjectExists(rule.service, selectionOf(rule));
  // The search command has no escape for `*`: literal asterisks need `where`, as regexes and field
  // references do.
  const filter =
    usesOp(selection, ['re', 'fieldref']) || someMatch(selection, hasLiteralStar)
      ? `${base} | where ${whereExpr(ctx, selection, true)}`
      : `${base} ${searchExpr(ctx, selection, true)}`;
  if (rule.kind === 'detection') return filter;
  const by = rule.groupBy.map((f) => quoteFieldForEval(splField(ctx, f).name, false));
  const byClause = by.length ? ` BY ${by.join(' ')}` : '';
  const target = rule.condition.field
    ? quoteFieldForEval(splField(ctx, rule.condition.field).name, false)
    : '';
  const stat =
    rule.type === 'event_count' ? 'count' : rule.type === 'value_count' ? `dc(${target})` : `sum(${target})`;
  const op = rule.condition.op === 'gt' ? '>' : '>=';
  const seconds = Math.round(rule.timespanMs / 1000);
  return [
    filter,
    `streamstats time_window=${seconds}s ${stat} AS value${byClause}`,
    `where value${op}${rule.condition.value}`,
    `dedup${by.length ? ` ${by.join(' ')}` : ' value'}`,
    `table _time${by.length ? ` ${by.join(' ')}` : ''} value`,
  ].join(' | ');
}

function searchExpr(ctx: Ctx, node: SearchNode, top = false): string {
  switch (node.kind) {
    case 'and':
      return paren(node.items.map((i) => searchExpr(ctx, i)).join(' '), top);
    case 'or':
      return paren(node.items.map((i) => searchExpr(ctx, i)).join(' OR '), top);
    case 'not': {
      // A coalesced field is never absent: "not exists" is "holds the default".
      const absent = absentTest(ctx, node.item);
      return absent
        ? `${quoteFieldForSearch(absent.name)}=${splQuote(absent.value)}`
        : `NOT ${searchExpr(ctx, node.item)}`;
    }
    case 'const':
      return node.value ? '*' : 'NOT *';
    case 'match': {
      checkLeaf(ctx, node);
      const f = splField(ctx, node.field);
      const name = quoteFieldForSearch(f.name);
      if (node.op === 'exists')
        return f.absentAs === undefined ? `${name}=*` : `${name}!=${splQuote(f.absentAs)}`;
      const values = node.values.map((v) => translateValue({ field: f.name, values: f.values }, v));
      const parts = values.map((v) => searchTerm(node, name, v));
      if (parts.length === 1) return parts[0] as string;
      return `(${parts.join(node.all ? ' ' : ' OR ')})`;
    }
  }
}

function searchTerm(m: FieldMatch, name: string, v: SigmaValue): string {
  const text = String(v);
  const quoted = (s: string) => (m.cased ? `CASE(${splQuote(s)})` : splQuote(s));
  switch (m.op) {
    case 'gt':
      return `${name}>${v}`;
    case 'gte':
      return `${name}>=${v}`;
    case 'lt':
      return `${name}<${v}`;
    case 'lte':
      return `${name}<=${v}`;
    case 'cidr':
      return `${name}=${text}`;
    case 'contains':
      return `${name}=${quoted(`*${text}*`)}`;
    case 'startswith':
      return `${name}=${quoted(`${text}*`)}`;
    case 'endswith':
      return `${name}=${quoted(`*${text}`)}`;
    case 'wildcard':
      // SPL has no one-character wildcard; `?` widens to `*`.
      return `${name}=${quoted(
        parseWildcard(text)
          .map((s) => ('wild' in s ? '*' : s.text))
          .join(''),
      )}`;
    default:
      return typeof v === 'number' ? `${name}=${v}` : `${name}=${quoted(text)}`;
  }
}

function whereExpr(ctx: Ctx, node: SearchNode, top = false): string {
  switch (node.kind) {
    case 'and':
      return paren(node.items.map((i) => whereExpr(ctx, i)).join(' AND '), top);
    case 'or':
      return paren(node.items.map((i) => whereExpr(ctx, i)).join(' OR '), top);
    case 'not': {
      const absent = absentTest(ctx, node.item);
      return absent
        ? `${quoteFieldForEval(absent.name, true)}=${splQuote(absent.value)}`
        : `NOT ${whereExpr(ctx, node.item)}`;
    }
    case 'const':
      return node.value ? 'true()' : 'false()';
    case 'match': {
      checkLeaf(ctx, node);
      const f = splField(ctx, node.field);
      const name = quoteFieldForEval(f.name, true);
      if (node.op === 'exists')
        return f.absentAs === undefined ? `isnotnull(${name})` : `${name}!=${splQuote(f.absentAs)}`;
      const values = node.values.map((v) => translateValue({ field: f.name, values: f.values }, v));
      const flag = node.cased ? '' : '(?i)';
      const parts = values.map((v) => {
        const text = String(v);
        switch (node.op) {
          case 'gt':
            return `tonumber(${name})>${v}`;
          case 'gte':
            return `tonumber(${name})>=${v}`;
          case 'lt':
            return `tonumber(${name})<${v}`;
          case 'lte':
            return `tonumber(${name})<=${v}`;
          case 'cidr':
            return `cidrmatch(${splQuote(text)}, ${name})`;
          case 'fieldref': {
            const other = quoteFieldForEval(splField(ctx, text).name, true);
            return node.cased ? `${name}==${other}` : `lower(${name})==lower(${other})`;
          }
          case 're':
            return `match(${name}, ${splQuote(flag + text)})`;
          case 'contains':
            return `match(${name}, ${splQuote(`${flag}${regexEscape(text)}`)})`;
          case 'startswith':
            return `match(${name}, ${splQuote(`${flag}^${regexEscape(text)}`)})`;
          case 'endswith':
            return `match(${name}, ${splQuote(`${flag}${regexEscape(text)}$`)})`;
          case 'wildcard':
            return `match(${name}, ${splQuote(
              `${flag}^${parseWildcard(text)
                .map((s) => ('wild' in s ? (s.wild === '*' ? '.*' : '.') : regexEscape(s.text)))
                .join('')}$`,
            )})`;
          default:
            return typeof v === 'number'
              ? `tonumber(${name})==${v}`
              : `match(${name}, ${splQuote(`${flag}^${regexEscape(text)}$`)})`;
        }
      });
      if (parts.length === 1) return parts[0] as string;
      return `(${parts.join(node.all ? ' AND ' : ' OR ')})`;
    }
  }
}

function paren(text: string, top: boolean): string {
  return top ? text : `(${text})`;
}

function splQuote(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}

function regexEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function quoteFieldForSearch(name: string): string {
  return /^[\w.{}@-]+$/.test(name) ? name : splQuote(name);
}

/** In eval/where, names with anything but word characters must be single-quoted. */
function quoteFieldForEval(name: string, always: boolean): string {
  return !always && /^[A-Za-z_]\w*$/.test(name) ? name : `'${name.replace(/'/g, "\\'")}'`;
}

// ---------------------------------------------------------------- saved searches

/** How far back in event time a scheduled search looks for events indexed in its window. */
const LATE_DATA_REACH = '-24h@h';

const ALERT_SEVERITY: Record<Level, number> = { informational: 2, low: 3, medium: 4, high: 5, critical: 6 };

/** The saved-search name; the webhook receiver maps it back to the rule through the description. */
export function savedSearchName(rule: Rule): string {
  return `ASC - ${rule.title}`;
}

/** REST form fields of `saved/searches` (the same keys savedsearches.conf holds). */
export function compileSavedSearch(rule: Rule, options: SplOptions = {}): Record<string, string> {
  const minutes = rule.kind === 'correlation' ? Math.ceil(rule.timespanMs / 60_000) : 0;
  const receiver = (options.webhookUrl ?? '$ASC_WEBHOOK_URL$').replace(/\/+$/, '');
  // CloudTrail delivers events 5-15 minutes (at times hours) after they happen, and _time is the event
  // time: a window on _time would see most events only after it had passed. Each run takes the events
  // *indexed* in the last period instead (contiguous windows: every event is seen once), reaching back
  // a day in event time for the late ones.
  const indexed = rule.kind === 'correlation' ? `-${minutes + 5}m@m` : '-5m@m';
  const indexes = options.indexes?.length ? `${splunkIndexTerm(options.indexes)} ` : '';
  return {
    search: compileSpl(rule, `${indexes}_index_earliest=${indexed} _index_latest=@m`),
    description: `${rule.description.trim().replace(/\s+/g, ' ')} (rule_id: ${rule.id}; author: ${rule.author})`,
    disabled: '0',
    is_scheduled: '1',
    cron_schedule: '*/5 * * * *',
    'dispatch.earliest_time': LATE_DATA_REACH,
    'dispatch.latest_time': 'now',
    alert_type: 'number of events',
    alert_comparator: 'greater than',
    alert_threshold: '0',
    'alert.track': '1',
    'alert.severity': String(ALERT_SEVERITY[rule.level]),
    'alert.digest_mode': '0',
    'alert.expires': '24h',
    'alert.suppress': '1',
    'alert.suppress.period': rule.kind === 'correlation' ? `${minutes}m` : '5m',
    ...(rule.kind === 'correlation' && rule.groupBy.length
      ? { 'alert.suppress.fields': rule.groupBy.map((f) => splField(context(rule), f).name).join(',') }
      : {}),
    actions: 'webhook',
    'action.webhook': '1',
    'action.webhook.param.url': `${receiver}/alerts/splunk?token=${WEBHOOK_TOKEN_PLACEHOLDER}`,
    'request.ui_dispatch_app': 'search',
    'request.ui_dispatch_view': 'search',
  };
}

/** One savedsearches.conf stanza. */
export function savedSearchStanza(name: string, fields: Record<string, string>): string {
  const lines = [`[${name.replace(/[[\]]/g, '')}]`];
  for (const [key, value] of Object.entries(fields))
    lines.push(`${key} = ${value.replace(/\r?\n/g, ' \\\n')}`);
  return `${lines.join('\n')}\n`;
}
