import { RuleCompileError } from './errors.js';
import { type FieldResolver, loadFieldMap, rawResolver, resolverFor, translateValue } from './fieldmap.js';
import { existsAt, type Leaf, matchField, valuesAt } from './match.js';
import type {
  Alert,
  CorrelationRule,
  DetectionRule,
  FieldMatch,
  LogService,
  Rule,
  SearchNode,
} from './model.js';

/**
 * The in-process evaluator. Detections fire per document; correlations keep, per group, the matching
 * events of the last `timespan` (event time from the document, never the wall clock). A window that
 * crosses its threshold opens an alert that collects every further match until the window ends, so one
 * burst gives one alert listing every event in it.
 */
export interface EvaluatorOptions {
  /** Which names documents use: `ecs` (default: the mapped documents) or `raw` (CloudTrail / flow names). */
  fields?: 'ecs' | 'raw';
  /** Upper bound on correlation groups held at once; the least recently touched group is dropped first. */
  maxGroups?: number;
}

export interface Evaluator {
  /** Evaluates one document; `id` is its record id (CloudTrail eventID, flow document id). */
  evaluate(doc: Record<string, unknown>, id: string, service?: LogService): Alert[];
  /** Closes every open correlation window (end of input) and returns the alerts they hold. */
  flush(): Alert[];
}

interface WindowEntry {
  ts: number;
  id: string;
  value: Leaf | undefined;
}

interface Group {
  key: Record<string, unknown>;
  entries: WindowEntry[];
  open?: { entries: WindowEntry[]; endTs: number };
}

interface CorrelationState {
  rule: CorrelationRule;
  groups: Map<string, Group>;
  open: Set<string>;
}

export function createEvaluator(rules: readonly Rule[], options: EvaluatorOptions = {}): Evaluator {
  const resolve: FieldResolver = options.fields === 'raw' ? rawResolver : resolverFor(loadFieldMap('ecs'));
  const maxGroups = options.maxGroups ?? 100_000;
  const detections = rules.filter((r): r is DetectionRule => r.kind === 'detection');
  const correlations: CorrelationState[] = rules
    .filter((r): r is CorrelationRule => r.kind === 'correlation')
    .map((rule) => ({ rule, groups: new Map(), open: new Set() }));
  const feeds = new Map<string, CorrelationState[]>();
  for (const c of correlations) {
    for (const base of c.rule.rules) feeds.set(base.id, [...(feeds.get(base.id) ?? []), c]);
  }

  // Resolve every field once up front: an unmapped field is a rule error, not a silent non-match.
  const fieldOf = new Map<string, { path: string; values?: Record<string, string> }>();
  const mapField = (service: LogService, field: string, rule: Rule) => {
    const key = `${service}\u0000${field}`;
    let mapped = fieldOf.get(key);
    if (!mapped) {
      const m = resolve(service, field);
      if (!m) {
        throw new RuleCompileError(`field '${field}' has no ${options.fields ?? 'ecs'} mapping`, {
          rule: rule.file,
          backend: options.fields ?? 'ecs',
          field,
        });
      }
      mapped = { path: m.field, values: m.values };
      fieldOf.set(key, mapped);
    }
    return mapped;
  };
  const translated = new WeakMap<FieldMatch, FieldMatch>();
  const prepare = (node: SearchNode, service: LogService, rule: Rule): void => {
    if (node.kind === 'match') {
      const m = mapField(service, node.field, rule);
      if (node.op === 'fieldref') for (const v of node.values) mapField(service, String(v), rule);
      if (m.values)
        translated.set(node, {
          ...node,
          values: node.values.map((v) => translateValue({ field: m.path, values: m.values }, v)),
        });
    } else if (node.kind === 'and' || node.kind === 'or')
      for (const i of node.items) prepare(i, service, rule);
    else if (node.kind === 'not') prepare(node.item, service, rule);
  };
  for (const d of detections) prepare(d.search, d.service, d);
  for (const c of correlations) {
    for (const f of [...c.rule.groupBy, ...(c.rule.condition.field ? [c.rule.condition.field] : [])]) {
      mapField(c.rule.service, f, c.rule);
    }
  }

  const test = (node: SearchNode, doc: Record<string, unknown>, service: LogService): boolean => {
    switch (node.kind) {
      case 'match': {
        const m = translated.get(node) ?? node;
        const path = (fieldOf.get(`${service}\u0000${node.field}`) as { path: string }).path;
        if (node.op === 'exists') return existsAt(doc, path);
        return matchField(m, valuesAt(doc, path), (f) =>
          valuesAt(doc, (fieldOf.get(`${service}\u0000${f}`) as { path: string }).path),
        );
      }
      case 'and':
        return node.items.every((i) => test(i, doc, service));
      case 'or':
        return node.items.some((i) => test(i, doc, service));
      case 'not':
        return !test(node.item, doc, service);
      case 'const':
        return node.value;
    }
  };

  const fieldValue = (doc: Record<string, unknown>, service: LogService, field: string): Leaf | undefined =>
    valuesAt(doc, (fieldOf.get(`${service}\u0000${field}`) as { path: string }).path)[0];

  let watermark = Number.NEGATIVE_INFINITY;

  const alertOf = (rule: Rule, ts: number, ids: string[], extra: Partial<Alert> = {}): Alert => ({
    rule: { id: rule.id, name: rule.title, level: rule.level, tags: rule.tags, author: rule.author },
    '@timestamp': new Date(ts).toISOString(),
    source_event_ids: ids,
    ...extra,
  });

  const closeGroup = (state: CorrelationState, key: string, group: Group): Alert => {
    const open = group.open as NonNullable<Group['open']>;
    group.open = undefined;
    state.open.delete(key);
    if (group.entries.length === 0) state.groups.delete(key);
    const last = open.entries[open.entries.length - 1] as WindowEntry;
    return alertOf(state.rule, last.ts, [...new Set(open.entries.map((e) => e.id))], {
      group: group.key,
      value: aggregate(state.rule, open.entries),
    });
  };

  const closeBefore = (limit: number): Alert[] => {
    const out: Alert[] = [];
    for (const state of correlations) {
      for (const key of [...state.open]) {
        const group = state.groups.get(key) as Group;
        if ((group.open as NonNullable<Group['open']>).endTs < limit) out.push(closeGroup(state, key, group));
      }
    }
    return out;
  };

  const feed = (
    state: CorrelationState,
    doc: Record<string, unknown>,
    service: LogService,
    id: string,
    ts: number,
  ) => {
    const rule = state.rule;
    const keyValues: Record<string, unknown> = {};
    for (const f of rule.groupBy) keyValues[f] = fieldValue(doc, service, f) ?? null;
    const key = JSON.stringify(rule.groupBy.map((f) => keyValues[f]));
    let group = state.groups.get(key);
    if (group) {
      state.groups.delete(key); // re-inserted below: Map order doubles as least-recently-used order
    } else {
      group = { key: keyValues, entries: [] };
      if (state.groups.size >= maxGroups) {
        const oldest = state.groups.keys().next().value as string;
        if (!state.open.has(oldest)) state.groups.delete(oldest);
      }
    }
    state.groups.set(key, group);
    const entry: WindowEntry = {
      ts,
      id,
      value: rule.condition.field ? fieldValue(doc, service, rule.condition.field) : undefined,
    };
    if (group.open && ts <= group.open.endTs) {
      group.open.entries.push(entry);
      return;
    }
    // Keep entries sorted by time; CloudTrail objects are only roughly ordered.
    let i = group.entries.length;
    while (i > 0 && (group.entries[i - 1] as WindowEntry).ts > ts) i--;
    group.entries.splice(i, 0, entry);
    const from = ts - rule.timespanMs;
    while (group.entries.length > 0 && (group.entries[0] as WindowEntry).ts < from) group.entries.shift();
    const inWindow = group.entries.filter((e) => e.ts <= ts);
    if (passes(rule, aggregate(rule, inWindow))) {
      group.open = { entries: inWindow, endTs: (inWindow[0] as WindowEntry).ts + rule.timespanMs };
      group.entries = group.entries.filter((e) => e.ts > ts);
      state.open.add(key);
    }
  };

  return {
    evaluate(doc, id, service) {
      const svc = service ?? serviceOf(doc);
      if (!svc) return [];
      const ts = timestampOf(doc, svc);
      const alerts: Alert[] = [];
      if (ts > watermark) {
        watermark = ts;
        alerts.push(...closeBefore(ts));
      }
      for (const rule of detections) {
        if (rule.service !== svc || !test(rule.search, doc, svc)) continue;
        if (rule.generate) alerts.push(alertOf(rule, ts, [id]));
        for (const state of feeds.get(rule.id) ?? []) feed(state, doc, svc, id, ts);
      }
      return alerts;
    },
    flush() {
      const alerts = closeBefore(Number.POSITIVE_INFINITY);
      for (const state of correlations) state.groups.clear();
      watermark = Number.NEGATIVE_INFINITY;
      return alerts;
    },
  };
}

function aggregate(rule: CorrelationRule, entries: WindowEntry[]): number {
  switch (rule.type) {
    case 'event_count':
      return new Set(entries.map((e) => e.id)).size;
    case 'value_count':
      return new Set(entries.filter((e) => e.value !== undefined).map((e) => String(e.value).toLowerCase()))
        .size;
    case 'value_sum':
      return entries.reduce((sum, e) => {
        const n = Number(e.value);
        return Number.isFinite(n) ? sum + n : sum;
      }, 0);
  }
}

function passes(rule: CorrelationRule, value: number): boolean {
  return rule.condition.op === 'gt' ? value > rule.condition.value : value >= rule.condition.value;
}

/** Which log a document is: ECS `data_stream.dataset` / `event.dataset`, else the shape of a raw record. */
export function serviceOf(doc: Record<string, unknown>): LogService | undefined {
  const dataset = valuesAt(doc, 'data_stream.dataset')[0] ?? valuesAt(doc, 'event.dataset')[0];
  if (dataset === 'aws.cloudtrail') return 'cloudtrail';
  if (dataset === 'aws.vpcflow') return 'vpcflow';
  if (doc.aws && typeof doc.aws === 'object') {
    if ('cloudtrail' in doc.aws) return 'cloudtrail';
    if ('vpcflow' in doc.aws) return 'vpcflow';
  }
  if ('eventName' in doc && 'eventSource' in doc) return 'cloudtrail';
  if ('srcaddr' in doc || 'interface-id' in doc) return 'vpcflow';
  return undefined;
}

function timestampOf(doc: Record<string, unknown>, service: LogService): number {
  const candidates = [doc['@timestamp'], service === 'cloudtrail' ? doc.eventTime : doc.end];
  for (const c of candidates) {
    if (typeof c === 'string' && c !== '') {
      const t = /^\d+$/.test(c) ? Number(c) * 1000 : Date.parse(c);
      if (Number.isFinite(t)) return t;
    }
    if (typeof c === 'number') return c < 1e11 ? c * 1000 : c;
  }
  return 0;
}
