import type { RawRecord } from '../types.js';
import { CORRELATION_DEFAULTS, type CorrelationLimits, CorrelationState } from './correlate.js';
import { RuleCompileError } from './errors.js';
import { type FieldResolver, loadFieldMap, rawResolver, resolverFor, translateValue } from './fieldmap.js';
import { gatesOf } from './gate.js';
import { compileMatch, type DocumentTest, type FieldReader, fieldReader, type Leaf } from './match.js';
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
 * events of the last `timespan` (see CorrelationState).
 */
export interface EvaluatorOptions extends Partial<CorrelationLimits> {
  /** Which names documents use: `ecs` (default: the mapped documents) or `raw` (CloudTrail / flow names). */
  fields?: 'ecs' | 'raw';
}

export interface Evaluator {
  /** Evaluates one document; `id` is its record id (CloudTrail eventID, flow document id). */
  evaluate(doc: Record<string, unknown>, id: string, service?: LogService): Alert[];
  /** Closes every open correlation window (end of input) and returns the alerts they hold. */
  flush(): Alert[];
}

/**
 * A decoded record as an evaluator with `fields: 'raw'` reads it: the CloudTrail event, or the flow line's
 * fields (pass `record.logType` as the service).
 */
export function rawDocument(record: RawRecord): Record<string, unknown> {
  return record.logType === 'cloudtrail' ? record.event : record.fields;
}

export function createEvaluator(rules: readonly Rule[], options: EvaluatorOptions = {}): Evaluator {
  const resolve: FieldResolver = options.fields === 'raw' ? rawResolver : resolverFor(loadFieldMap('ecs'));
  const limits: CorrelationLimits = {
    maxGroups: options.maxGroups ?? CORRELATION_DEFAULTS.maxGroups,
    maxWindowEvents: options.maxWindowEvents ?? CORRELATION_DEFAULTS.maxWindowEvents,
  };
  const detections = rules.filter((r): r is DetectionRule => r.kind === 'detection');
  const correlations = rules
    .filter((r): r is CorrelationRule => r.kind === 'correlation')
    .map((rule) => new CorrelationState(rule, limits, alertOf));
  const feeds = new Map<string, CorrelationState[]>();
  for (const c of correlations) {
    for (const base of c.rule.rules) feeds.set(base.id, [...(feeds.get(base.id) ?? []), c]);
  }

  // Resolve every field once up front: an unmapped field is a rule error, not a silent non-match.
  const fieldOf = new Map<string, { path: string; values?: Record<string, string>; reader: FieldReader }>();
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
      mapped = { path: m.field, values: m.values, reader: fieldReader(m.field) };
      fieldOf.set(key, mapped);
    }
    return mapped;
  };
  /** A match's document field and its values as documents hold them (value tables applied). */
  const resolveMatch = (node: FieldMatch, service: LogService, rule: Rule) => {
    const m = mapField(service, node.field, rule);
    const match = m.values
      ? { ...node, values: node.values.map((v) => translateValue({ field: m.path, values: m.values }, v)) }
      : node;
    return { path: m.path, reader: m.reader, match, values: match.values };
  };
  /** A search tree as one test over documents, built once per rule. */
  const compile = (node: SearchNode, service: LogService, rule: Rule): DocumentTest => {
    switch (node.kind) {
      case 'match': {
        const { reader, match } = resolveMatch(node, service, rule);
        const ref = (f: string) => mapField(service, f, rule).reader;
        if (node.op === 'fieldref') for (const v of node.values) ref(String(v));
        return compileMatch(match, reader, ref);
      }
      case 'and': {
        const items = node.items.map((i) => compile(i, service, rule));
        return (doc) => items.every((t) => t(doc));
      }
      case 'or': {
        const items = node.items.map((i) => compile(i, service, rule));
        return (doc) => items.some((t) => t(doc));
      }
      case 'not': {
        const item = compile(node.item, service, rule);
        return (doc) => !item(doc);
      }
      case 'const': {
        const value = node.value;
        return () => value;
      }
    }
  };
  // Gated fields get a slot: their lower-cased values are read once per document, for every rule gated on them.
  const gateSlots = new Map<string, number>();
  const gateReaders: FieldReader[] = [];
  const compiled: CompiledDetection[] = detections.map((rule) => {
    const gates = gatesOf(rule.search, (m) => resolveMatch(m, rule.service, rule)).map(({ path, wanted }) => {
      let slot = gateSlots.get(path);
      if (slot === undefined) {
        slot = gateReaders.length;
        gateSlots.set(path, slot);
        gateReaders.push(fieldReader(path));
      }
      return { slot, wanted };
    });
    return { rule, gates, test: compile(rule.search, rule.service, rule) };
  });
  const dispatch = dispatchIndex(compiled);
  for (const c of correlations) {
    for (const f of [...c.rule.groupBy, ...(c.rule.condition.field ? [c.rule.condition.field] : [])]) {
      mapField(c.rule.service, f, c.rule);
    }
  }

  const fieldValue = (doc: Record<string, unknown>, service: LogService, field: string): Leaf | undefined =>
    (fieldOf.get(`${service}\u0000${field}`) as { reader: FieldReader }).reader.values(doc)[0];

  let watermark = Number.NEGATIVE_INFINITY;

  const feed = (
    state: CorrelationState,
    doc: Record<string, unknown>,
    service: LogService,
    id: string,
    ts: number,
  ) => {
    const keyValues: Record<string, unknown> = {};
    for (const f of state.rule.groupBy) keyValues[f] = fieldValue(doc, service, f) ?? null;
    const field = state.rule.condition.field;
    state.feed(keyValues, { ts, id, value: field ? fieldValue(doc, service, field) : undefined });
  };
  const closeBefore = (limit: number): Alert[] => correlations.flatMap((state) => state.closeBefore(limit));

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
      const gated: (string[] | undefined)[] = [];
      const gateValues = (slot: number): string[] => {
        let values = gated[slot];
        if (values === undefined) {
          values = (gateReaders[slot] as FieldReader).values(doc).map((v) => String(v).toLowerCase());
          gated[slot] = values;
        }
        return values;
      };
      const passesGate = ({ slot, wanted }: SlotGate): boolean => gateValues(slot).some((v) => wanted.has(v));
      const routes = dispatch.get(svc);
      if (routes === undefined) return alerts;
      for (const index of candidatesOf(routes, gateValues)) {
        const { rule, gates, test } = compiled[index] as CompiledDetection;
        if (!gates.every(passesGate) || !test(doc)) continue;
        if (rule.generate) alerts.push(alertOf(rule, ts, [id]));
        for (const state of feeds.get(rule.id) ?? []) feed(state, doc, svc, id, ts);
      }
      return alerts;
    },
    flush() {
      const alerts = closeBefore(Number.POSITIVE_INFINITY);
      for (const state of correlations) state.clear();
      watermark = Number.NEGATIVE_INFINITY;
      return alerts;
    },
  };
}

interface SlotGate {
  slot: number;
  wanted: Set<string>;
}

interface CompiledDetection {
  rule: DetectionRule;
  gates: SlotGate[];
  test: DocumentTest;
}

/**
 * Which rules a document of one service could fire: those without gates, and the others by the value of
 * one gate each (`bySlot`: gate slot → lower-cased value → rule positions). A document visits only the
 * rules one of its values admits, so a rule set that grows costs where its rules could match, not on
 * every record.
 */
interface Routes {
  always: number[];
  bySlot: Map<number, Map<string, number[]>>;
}

/**
 * Each rule is indexed by its gate on the field whose gates want the most distinct values across the
 * rule set (`eventName` rather than `eventSource` for CloudTrail): the most selective lookup; ties go to
 * the gate that wants fewer values.
 */
function dispatchIndex(compiled: readonly CompiledDetection[]): Map<LogService, Routes> {
  const distinct = new Map<number, Set<string>>();
  for (const { gates } of compiled) {
    for (const { slot, wanted } of gates) {
      const seen = distinct.get(slot) ?? new Set<string>();
      for (const w of wanted) seen.add(w);
      distinct.set(slot, seen);
    }
  }
  const spread = (g: SlotGate) => distinct.get(g.slot)?.size ?? 0;
  const index = new Map<LogService, Routes>();
  compiled.forEach(({ rule, gates }, position) => {
    let routes = index.get(rule.service);
    if (routes === undefined) {
      routes = { always: [], bySlot: new Map() };
      index.set(rule.service, routes);
    }
    const key = gates.reduce<SlotGate | undefined>(
      (best, g) =>
        best === undefined ||
        spread(g) > spread(best) ||
        (spread(g) === spread(best) && g.wanted.size < best.wanted.size)
          ? g
          : best,
      undefined,
    );
    if (key === undefined) {
      routes.always.push(position);
      return;
    }
    const byValue = routes.bySlot.get(key.slot) ?? new Map<string, number[]>();
    routes.bySlot.set(key.slot, byValue);
    for (const value of key.wanted) byValue.set(value, [...(byValue.get(value) ?? []), position]);
  });
  return index;
}

/** The positions of the rules a document could fire, in rule order (alerts come out in that order). */
function candidatesOf(routes: Routes, gateValues: (slot: number) => string[]): number[] {
  let picked: number[] | undefined;
  for (const [slot, byValue] of routes.bySlot) {
    for (const value of gateValues(slot)) {
      const positions = byValue.get(value);
      if (positions === undefined) continue;
      picked ??= [...routes.always];
      picked.push(...positions);
    }
  }
  if (picked === undefined) return routes.always;
  // A rule is listed once per value it wants; a field with several values may reach it twice.
  picked.sort((a, b) => a - b);
  return picked.filter((p, i) => i === 0 || p !== picked[i - 1]);
}

function alertOf(rule: Rule, ts: number, ids: string[], extra: Partial<Alert> = {}): Alert {
  return {
    rule: { id: rule.id, name: rule.title, level: rule.level, tags: rule.tags, author: rule.author },
    '@timestamp': new Date(ts).toISOString(),
    source_event_ids: ids,
    ...extra,
  };
}

const DATA_STREAM_DATASET = fieldReader('data_stream.dataset');
const EVENT_DATASET = fieldReader('event.dataset');

/** Which log a document is: ECS `data_stream.dataset` / `event.dataset`, else the shape of a raw record. */
export function serviceOf(doc: Record<string, unknown>): LogService | undefined {
  const dataset = DATA_STREAM_DATASET.values(doc)[0] ?? EVENT_DATASET.values(doc)[0];
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
