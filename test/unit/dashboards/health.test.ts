import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDashboardsDir, loadDashboardSources, panelSpl } from '../../../src/dashboards/index.js';
import { healthDocuments } from '../../../src/observe/index.js';

const sources = loadDashboardSources(path.join(defaultDashboardsDir(), 'src'));
const spec = sources.dashboards.find((d) => d.id === 'aws-siem-connector-health')!;
const dataset = sources.datasets[spec.dataset]!;

/** A document's leaves as dotted ECS names, the way both SIEMs address them. */
function leaves(value: unknown, prefix = ''): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { [prefix]: value };
  return Object.assign(
    {},
    ...Object.entries(value).map(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k)),
  ) as Record<string, unknown>;
}

/** One self-report round of a process with two sinks. */
const report = healthDocuments(
  {
    counters: new Map([
      ['asc_objects_total{log_type=cloudtrail,outcome=delivered}', 10],
      ['asc_dead_letters_total{code=MAP_FAILED}', 3],
      ['asc_sink_records_total{outcome=acked,sink=hec}', 500],
      ['asc_sink_records_total{outcome=acked,sink=search}', 480],
    ]),
    lagMax: 7.5,
  },
  { counters: new Map() },
  ['hec', 'search'],
).map((d) => leaves(d));

/** What a panel's metric comes to over the report, with its filter applied (exists clauses only here). */
function evaluate(panel: (typeof spec.panels)[number]): number {
  const m = panel.metric;
  if (m.op !== 'sum' && m.op !== 'max') throw new Error(`unexpected op ${m.op}`);
  const docs = report.filter((d) =>
    panel.filter.every((c) => ('exists' in c ? (d[c.field] !== undefined) === c.exists : true)),
  );
  const values = docs.map((d) => d[m.field]).filter((v): v is number => typeof v === 'number');
  return m.op === 'sum' ? values.reduce((a, b) => a + b, 0) : Math.max(...values);
}

describe('connector health dashboard over the documents the connector reports', () => {
  it('every field a panel reads is in the reported documents', () => {
    const reported = new Set(report.flatMap((d) => Object.keys(d)));
    for (const p of spec.panels) {
      for (const f of [
        ...p.split,
        ...p.filter.map((c) => c.field),
        ...('field' in p.metric ? [p.metric.field] : []),
      ])
        expect(reported.has(f), `${p.id}: ${f}`).toBe(true);
    }
  });

  it('sums count each figure once with two sinks, and the lag is the worst of the interval', () => {
    const byId = Object.fromEntries(spec.panels.map((p) => [p.id, evaluate(p)]));
    expect(byId).toMatchObject({
      throughput: 980,
      'dead-letters-over-time': 3,
      'dead-letters-total': 3,
      'objects-total': 10,
      lag: 7.5,
      instances: 7.5,
    });
  });

  it('records shipped are split by sink, leaving out the process document (no NULL series in Splunk)', () => {
    const throughput = spec.panels.find((p) => p.id === 'throughput')!;
    expect(panelSpl(throughput, dataset)).toBe(
      'index=* sourcetype="aws-siem-connector:metrics" aws_siem_connector.sink.name=* | timechart limit=5 sum(aws_siem_connector.records.shipped) as sum_aws_siem_connector_records_shipped by aws_siem_connector.sink.name',
    );
  });
});
