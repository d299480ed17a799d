import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { fieldsOf, mapFieldOrThrow, usesOp } from './backend.js';
import { type QueryDsl, toEsqlCondition, toKql, toQueryDsl } from './elastic.js';
import { loadFieldMap, resolverFor } from './fieldmap.js';
import type { CorrelationRule, DetectionRule, Level, Rule, SearchNode } from './model.js';

/**
 * Sigma rule -> Kibana Detection Engine rule body (what `_import` and `POST /api/detection_engine/rules`
 * take). Detections become `query` rules in KQL, or `esql` when KQL cannot say it; event_count and
 * value_count correlations become `threshold` rules; value_sum becomes an aggregating ES|QL rule.
 */
export type KibanaRule = Record<string, unknown> & { rule_id: string; type: string; name: string };

const SEVERITY: Record<Level, { severity: string; risk_score: number }> = {
  informational: { severity: 'low', risk_score: 21 },
  low: { severity: 'low', risk_score: 21 },
  medium: { severity: 'medium', risk_score: 47 },
  high: { severity: 'high', risk_score: 73 },
  critical: { severity: 'critical', risk_score: 99 },
};

interface MitreTable {
  tactics: Record<string, { id: string; name: string }>;
  techniques: Record<string, { name: string; tactics?: string[] }>;
}

let mitre: MitreTable | undefined;
function mitreTable(): MitreTable {
  mitre ??= parse(
    readFileSync(new URL('../../mappings/detection/mitre.yml', import.meta.url), 'utf8'),
  ) as MitreTable;
  return mitre;
}

/** Elasticsearch query DSL of a rule's event selection (a correlation: the OR of its rules). */
export function compileQueryDsl(rule: Rule): QueryDsl {
  return toQueryDsl(rule, selectionOf(rule), rule.service);
}

export function compileKibana(rule: Rule): KibanaRule {
  const map = loadFieldMap('ecs')[rule.service];
  const index = map.index ?? [];
  const base = {
    rule_id: rule.id,
    name: rule.title,
    description: rule.description,
    author: [rule.author],
    ...SEVERITY[rule.level],
    index,
    enabled: true,
    interval: '5m',
    from: 'now-6m',
    max_signals: 100,
    version: 1,
    license: 'Apache-2.0',
    references: rule.references,
    false_positives: rule.falsepositives,
    tags: [
      'Domain: Cloud',
      'Data Source: AWS',
      rule.service === 'cloudtrail' ? 'Data Source: AWS CloudTrail' : 'Data Source: Amazon VPC Flow Logs',
      ...rule.tags,
    ],
    threat: threatOf(rule.tags),
    timestamp_override: 'event.ingested',
  };
  if (rule.kind === 'detection') {
    if (usesOp(rule.search, ['re', 'fieldref'])) {
      return {
        ...base,
        type: 'esql',
        language: 'esql',
        query: `FROM ${index.join(',')} METADATA _id, _index, _version\n| WHERE ${toEsqlCondition(rule, rule.search, rule.service)}`,
      };
    }
    return { ...base, type: 'query', language: 'kuery', query: toKql(rule, rule.search, rule.service) };
  }
  return correlationRule(rule, base, index);
}

function correlationRule(rule: CorrelationRule, base: Record<string, unknown>, index: string[]): KibanaRule {
  const resolve = resolverFor(loadFieldMap('ecs'));
  const ecs = (f: string) => mapFieldOrThrow(resolve, 'ecs', rule, rule.service, f).field;
  const minutes = Math.max(1, Math.ceil(rule.timespanMs / 60_000));
  const window = { interval: `${minutes}m`, from: `now-${minutes + 1}m` };
  const threshold = rule.condition.op === 'gt' ? rule.condition.value + 1 : rule.condition.value;
  const selection = selectionOf(rule);
  if (rule.type === 'value_sum' || usesOp(selection, ['re', 'fieldref']) || rule.groupBy.length > 5) {
    const by = rule.groupBy.map(ecs);
    const stat =
      rule.type === 'value_sum'
        ? `value = SUM(${ecs(rule.condition.field as string)})`
        : rule.type === 'value_count'
          ? `value = COUNT_DISTINCT(${ecs(rule.condition.field as string)})`
          : 'value = COUNT(*)';
    return {
      ...(base as KibanaRule),
      ...window,
      type: 'esql',
      language: 'esql',
      query: [
        `FROM ${index.join(',')}`,
        `| WHERE ${toEsqlCondition(rule, selection, rule.service)}`,
        `| STATS ${stat}, event_count = COUNT(*)${by.length ? ` BY ${by.join(', ')}` : ''}`,
        `| WHERE value >= ${threshold}`,
      ].join('\n'),
    };
  }
  return {
    ...(base as KibanaRule),
    ...window,
    type: 'threshold',
    language: 'kuery',
    query: toKql(rule, selection, rule.service),
    threshold:
      rule.type === 'value_count'
        ? {
            field: rule.groupBy.map(ecs),
            value: 1,
            cardinality: [{ field: ecs(rule.condition.field as string), value: threshold }],
          }
        : { field: rule.groupBy.map(ecs), value: threshold },
  };
}

/** What a rule selects: its search, or for a correlation the OR of its rules' searches. */
export function selectionOf(rule: Rule): SearchNode {
  if (rule.kind === 'detection') return rule.search;
  const searches = rule.rules.map((r: DetectionRule) => r.search);
  return searches.length === 1 ? (searches[0] as SearchNode) : { kind: 'or', items: searches };
}

/** attack.* tags -> Kibana threat entries, one per tactic, techniques under the tactics they belong to. */
export function threatOf(tags: readonly string[]): Record<string, unknown>[] {
  const table = mitreTable();
  const tactics = tags
    .filter((t) => t.startsWith('attack.') && !/^attack\.t\d/.test(t))
    .map((t) => t.slice('attack.'.length).replace(/_/g, '-'))
    .filter((t) => t in table.tactics);
  const techniqueIds = tags
    .filter((t) => /^attack\.t\d{4}(\.\d{3})?$/.test(t))
    .map((t) => t.slice(7).toUpperCase());
  const parents = [...new Set(techniqueIds.map((id) => id.split('.')[0] as string))].filter(
    (id) => id in table.techniques,
  );
  const ref = (id: string) => `https://attack.mitre.org/techniques/${id.replace('.', '/')}/`;
  const technique = (p: string) => {
    const subs = techniqueIds.filter((id) => id.startsWith(`${p}.`) && id in table.techniques);
    return {
      id: p,
      name: table.techniques[p]?.name as string,
      reference: ref(p),
      ...(subs.length
        ? {
            subtechnique: subs.map((s) => ({
              id: s,
              name: table.techniques[s]?.name as string,
              reference: ref(s),
            })),
          }
        : {}),
    };
  };
  const tacticOf = (info: { id: string; name: string }) => ({
    id: info.id,
    name: info.name,
    reference: `https://attack.mitre.org/tactics/${info.id}/`,
  });
  const placed = new Set<string>();
  const entries: Record<string, unknown>[] = tactics.map((tactic) => {
    const techniques = parents
      .filter((p) => table.techniques[p]?.tactics?.includes(tactic))
      .map((p) => {
        placed.add(p);
        return technique(p);
      });
    return {
      framework: 'MITRE ATT&CK',
      tactic: tacticOf(table.tactics[tactic] as { id: string; name: string }),
      ...(techniques.length ? { technique: techniques } : {}),
    };
  });
  // A technique whose tactic was not tagged still belongs in the mapping: file it under its first tactic.
  for (const p of parents.filter((id) => !placed.has(id))) {
    const tactic = table.techniques[p]?.tactics?.[0];
    const info = tactic ? table.tactics[tactic] : undefined;
    if (!info) continue;
    entries.push({ framework: 'MITRE ATT&CK', tactic: tacticOf(info), technique: [technique(p)] });
  }
  return entries;
}

/** ECS fields a rule reads (for documentation and investigation). */
export function ecsFieldsOf(rule: Rule): string[] {
  const resolve = resolverFor(loadFieldMap('ecs'));
  return [...fieldsOf(selectionOf(rule))].map((f) => resolve(rule.service, f)?.field ?? f);
}
