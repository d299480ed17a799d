import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLogger,
  createMetrics,
  healthDocuments,
  hecReportTarget,
  SelfReporter,
} from '../../../src/observe/index.js';
import type { ReportDocument } from '../../../src/observe/self-report.js';
import { hecSinkConfigSchema } from '../../../src/sink/hec/index.js';
import { captureLogger } from '../sink/hec/helpers.js';

type Health = {
  scope: string;
  sink?: { name: string };
  records: { shipped?: number; dead_lettered?: number };
  objects?: { processed: number };
  lag?: { max_seconds: number };
};
const health = (d: ReportDocument) => d.aws_siem_connector as Health;
/** What the dashboard's sum over every document of the interval comes to. */
const sum = (docs: ReportDocument[], pick: (h: Health) => number | undefined) =>
  docs.reduce((n, d) => n + (pick(health(d)) ?? 0), 0);

describe('health self-report documents', () => {
  const before = { counters: new Map<string, number>() };
  const now = {
    counters: new Map([
      ['asc_objects_total{log_type=cloudtrail,outcome=delivered}', 10],
      ['asc_objects_total{log_type=vpcflow,outcome=delivered}', 2],
      ['asc_dead_letters_total{code=MAP_FAILED}', 3],
      ['asc_sink_records_total{outcome=acked,sink=hec}', 500],
      ['asc_sink_records_total{outcome=failed,sink=hec}', 7],
      ['asc_sink_records_total{outcome=acked,sink=search}', 480],
    ]),
    lagMax: 42.5,
  };

  it('carries the process figures once, however many sinks there are', () => {
    for (const sinks of [['hec'], ['hec', 'search'], ['hec', 'search', 'file']]) {
      const docs = healthDocuments(now, before, sinks);
      expect(sum(docs, (h) => h.objects?.processed)).toBe(12);
      expect(sum(docs, (h) => h.records.dead_lettered)).toBe(3);
      expect(docs.filter((d) => health(d).lag)).toHaveLength(1);
    }
  });

  it('none for a process without sinks (the webhook), as before', () => {
    expect(healthDocuments(now, before, [])).toEqual([]);
  });

  it('one process document and one document per sink with its own records shipped', () => {
    const docs = healthDocuments(now, before, ['hec', 'search'], new Date('2026-01-02T03:04:05Z'), 'h1');
    expect(docs.map((d) => d['@timestamp'])).toEqual(Array(3).fill('2026-01-02T03:04:05.000Z'));
    expect(docs.map(health)).toEqual([
      {
        scope: 'process',
        objects: { processed: 12 },
        records: { dead_lettered: 3 },
        lag: { max_seconds: 42.5 },
      },
      { scope: 'sink', sink: { name: 'hec' }, records: { shipped: 500 } },
      { scope: 'sink', sink: { name: 'search' }, records: { shipped: 480 } },
    ]);
  });

  it('reports the worst lag of the interval, not the average since the process started', async () => {
    const metrics = createMetrics();
    const sent: ReportDocument[][] = [];
    const reporter = new SelfReporter({
      targets: [{ send: async (kind, docs) => void (kind === 'metrics' && sent.push(docs)) }],
      metrics,
      sinks: ['hec'],
      log: createLogger('silent'),
    });
    reporter.start(3600);
    await new Promise((r) => setTimeout(r, 20));
    // First interval: an hour-long backlog drains.
    metrics.lag.observe(3600);
    metrics.lag.observe(1800);
    await reporter.tick();
    // Second interval: caught up.
    metrics.lag.observe(2);
    metrics.lag.observe(4);
    await reporter.tick();
    // Third interval (the last round of close): nothing delivered, so no lag figure.
    await reporter.close();
    const lags = sent.map((docs) =>
      docs.map((d) => health(d).lag?.max_seconds).filter((v) => v !== undefined),
    );
    expect(lags).toEqual([[3600], [4], []]);
  });
});

describe('SelfReporter rounds', () => {
  it('holds at most 10,000 documents for a slow SIEM, says how many it dropped, and never overlaps rounds', async () => {
    const sent: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { log, lines } = captureLogger();
    const reporter = new SelfReporter({
      targets: [
        {
          async send(_kind, docs) {
            sent.push(docs.length);
            await held;
          },
        },
      ],
      metrics: createMetrics(),
      sinks: [],
      log,
    });
    for (let i = 0; i < 10_003; i++) reporter.alert({ rule: `r${i}`, route: 'waf' });
    const first = reporter.tick();
    reporter.alert({ rule: 'during', route: 'waf' });
    // A second round while the first is still sending joins it instead of sending alongside.
    const second = reporter.tick();
    release();
    await Promise.all([first, second]);
    expect(sent).toEqual([10_000]);
    expect(lines().find((l) => l.msg?.toString().startsWith('self-report documents dropped'))).toMatchObject({
      dropped: 3,
    });
    await reporter.close();
    expect(sent).toEqual([10_000, 1]);
  });
});

describe('health self-report to HEC', () => {
  let dir: string;
  let caFile: string;
  let url: string;
  let close: () => Promise<void>;
  const seen: { path: string; auth: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    // A server certificate from a private CA: the self-report must trust it through tls.caFile, as the sink does.
    dir = mkdtempSync(join(tmpdir(), 'asc-report-tls-'));
    caFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        caFile,
        '-subj',
        '/CN=splunk.test',
        '-days',
        '1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    const server = createServer(
      { key: readFileSync(keyFile), cert: readFileSync(caFile) },
      (req: IncomingMessage, res: ServerResponse) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c));
        req.on('end', () => {
          seen.push({ path: req.url ?? '', auth: req.headers.authorization, body });
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"text":"Success","code":0}');
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });
  afterAll(async () => {
    await close();
    rmSync(dir, { recursive: true, force: true });
  });

  const doc: ReportDocument = { '@timestamp': '2026-01-02T03:04:05.000Z', event: { kind: 'metric' } };

  it('posts under the base path of the URL, trusting tls.caFile, as the HEC sink does', async () => {
    seen.length = 0;
    const config = hecSinkConfigSchema.parse({
      urls: [`${url}/splunk-hec`],
      token: 'report-token',
      index: 'ops',
      tls: { caFile },
    });
    const target = hecReportTarget(config, 'report-token');
    await target.send('metrics', [doc]);
    await target.close?.();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe('/splunk-hec/services/collector/event');
    expect(seen[0]!.auth).toBe('Splunk report-token');
    expect(JSON.parse(seen[0]!.body)).toMatchObject({
      sourcetype: 'aws-siem-connector:metrics',
      index: 'ops',
      time: Date.parse(doc['@timestamp']) / 1000,
      event: doc,
    });
  });

  it('honours tls.rejectUnauthorized false, and refuses the private CA without it', async () => {
    seen.length = 0;
    const trusting = hecReportTarget(
      hecSinkConfigSchema.parse({ urls: [url], token: 't0ken-abc', tls: { rejectUnauthorized: false } }),
      't0ken-abc',
    );
    await trusting.send('audit', [doc]);
    await trusting.close?.();
    expect(seen.map((s) => s.path)).toEqual(['/services/collector/event']);

    const strict = hecReportTarget(
      hecSinkConfigSchema.parse({ urls: [url], token: 't0ken-abc' }),
      't0ken-abc',
    );
    await expect(strict.send('audit', [doc])).rejects.toThrow(/certificate/i);
    await strict.close?.();
  });
});
