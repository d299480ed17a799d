import { describe, expect, it } from 'vitest';
import { createEmfEmitter, createMetrics, EMF_NAMESPACE, emfMetricName } from '../../../src/observe/index.js';

interface EmfDocument {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [member: string]: unknown;
}

describe('CloudWatch embedded metrics from the prom-client registry', () => {
  it('renders every counter series as one document with its value, namespace and dimension', async () => {
    const m = createMetrics();
    m.records.inc({ log_type: 'cloudtrail' }, 120);
    m.records.inc({ log_type: 'vpcflow' }, 30);
    m.deadLetters.inc({ code: 'DECODE_BAD_JSON' });
    m.sinkRecords.inc({ sink: 'hec', outcome: 'acked' }, 150);
    m.inFlightObjects.set(3); // a gauge: not a counter, not emitted
    const emf = createEmfEmitter(m.registry, { service: 'fn', now: () => 1_700_000_000_000 });
    const [doc, ...more] = (await emf.render()) as EmfDocument[];
    expect(more).toEqual([]);
    const directive = doc!._aws.CloudWatchMetrics[0]!;
    expect(doc!._aws.Timestamp).toBe(1_700_000_000_000);
    expect(directive.Namespace).toBe(EMF_NAMESPACE);
    expect(directive.Dimensions).toEqual([['Service']]);
    expect(doc!.Service).toBe('fn');
    const names = directive.Metrics.map((x) => x.Name).sort();
    expect(names).toEqual(
      [
        'asc_dead_letters_total{code=DECODE_BAD_JSON}',
        'asc_records_total{log_type=cloudtrail}',
        'asc_records_total{log_type=vpcflow}',
        'asc_sink_records_total{outcome=acked,sink=hec}',
      ].sort(),
    );
    expect(directive.Metrics.every((x) => x.Unit === 'Count')).toBe(true);
    // Every declared metric has a numeric member on the root, as the specification requires.
    for (const name of names) expect(typeof doc![name]).toBe('number');
    expect(doc!['asc_records_total{log_type=cloudtrail}']).toBe(120);
    expect(doc!['asc_sink_records_total{outcome=acked,sink=hec}']).toBe(150);
    expect(names.some((n) => n.includes('in_flight'))).toBe(false);
  });

  it('emits only what grew since the last call, as a warm Lambda container keeps its counters', async () => {
    const m = createMetrics();
    const emf = createEmfEmitter(m.registry, { service: 'fn' });
    m.records.inc({ log_type: 'cloudtrail' }, 10);
    expect(((await emf.render())[0] as EmfDocument)['asc_records_total{log_type=cloudtrail}']).toBe(10);
    expect(await emf.render()).toEqual([]);
    m.records.inc({ log_type: 'cloudtrail' }, 5);
    m.messagesDeleted.inc({ queue: 'q' }, 2);
    const doc = (await emf.render())[0] as EmfDocument;
    expect(doc['asc_records_total{log_type=cloudtrail}']).toBe(5);
    expect(doc['asc_sqs_messages_deleted_total{queue=q}']).toBe(2);
  });

  it('emits the growth of a histogram as its sum (seconds) and count, not its buckets', async () => {
    const m = createMetrics();
    const emf = createEmfEmitter(m.registry, { service: 'fn' });
    m.sinkLatency.observe({ sink: 'hec' }, 0.25);
    m.sinkLatency.observe({ sink: 'hec' }, 0.75);
    const doc = (await emf.render())[0] as EmfDocument;
    const metrics = doc._aws.CloudWatchMetrics[0]!.Metrics;
    expect(metrics).toEqual(
      expect.arrayContaining([
        { Name: 'asc_sink_request_seconds_sum{sink=hec}', Unit: 'Seconds' },
        { Name: 'asc_sink_request_seconds_count{sink=hec}', Unit: 'Count' },
      ]),
    );
    expect(metrics.some((x) => x.Name.includes('_bucket'))).toBe(false);
    expect(doc['asc_sink_request_seconds_sum{sink=hec}']).toBeCloseTo(1);
    expect(doc['asc_sink_request_seconds_count{sink=hec}']).toBe(2);
    m.sinkLatency.observe({ sink: 'hec' }, 0.5);
    const next = (await emf.render())[0] as EmfDocument;
    expect(next['asc_sink_request_seconds_sum{sink=hec}']).toBeCloseTo(0.5);
    expect(next['asc_sink_request_seconds_count{sink=hec}']).toBe(1);
  });

  it('splits beyond 100 metrics per document (the CloudWatch limit) and writes JSON lines', async () => {
    const m = createMetrics();
    for (let i = 0; i < 130; i++) m.alerts.inc({ rule: `rule-${i}` });
    const lines: string[] = [];
    const count = await createEmfEmitter(m.registry).emit((line) => lines.push(line));
    expect(count).toBe(2);
    expect(lines).toHaveLength(2);
    const docs = lines.map((l) => JSON.parse(l) as EmfDocument);
    expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
    expect(docs.map((d) => d._aws.CloudWatchMetrics[0]!.Metrics.length)).toEqual([100, 30]);
    const total = docs.reduce(
      (n, d) => n + d._aws.CloudWatchMetrics[0]!.Metrics.reduce((s, x) => s + (d[x.Name] as number), 0),
      0,
    );
    expect(total).toBe(130);
  });

  it('names series like /metrics, labels sorted', () => {
    expect(emfMetricName('asc_x_total', {})).toBe('asc_x_total');
    expect(emfMetricName('asc_x_total', { b: '2', a: 1 })).toBe('asc_x_total{a=1,b=2}');
  });
});
