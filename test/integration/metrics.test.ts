import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { gzipSync } from 'node:zlib';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import { createLogger, type ReadinessCheck, startObserveServer } from '../../src/observe/index.js';
import { createSinks } from '../../src/pipeline/build.js';
import {
  cloudTrailObjectText,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../src/samples/index.js';
import type { Sink } from '../../src/types.js';
import { createLogBucket, type LogBucket, putObject, queueDepth, waitFor } from './support/aws.js';
import { counterValue, type RunningConsumer, startConsumer, testSinks } from './support/consumer.js';

/** Prometheus text → value per `name{labels}` series (labels as written by prom-client, sorted). */
function parseExposition(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

/** Sum of the series of `name` whose labels include every `labels` pair. */
function sum(series: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const [key, value] of series) {
    const brace = key.indexOf('{');
    if ((brace === -1 ? key : key.slice(0, brace)) !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function readinessChecks(target: LogBucket, sinks: readonly Sink[]): ReadinessCheck[] {
  return [
    {
      name: 'sqs:queue',
      check: async () => {
        await target.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: target.queueUrl, AttributeNames: ['QueueArn'] }),
        );
      },
    },
    ...sinks.flatMap((s) => (s.check ? [{ name: `sink:${s.name}`, check: () => s.check!() }] : [])),
  ];
}

const prefix = `metrics-${randomUUID().slice(0, 6)}`;
let target: LogBucket;
let consumer: RunningConsumer;
let observe: Awaited<ReturnType<typeof startObserveServer>>;
const sent = { cloudtrail: 0, vpcflow: 0, objects: 0, bytes: 0 };

beforeAll(async () => {
  target = await createLogBucket();
  const put = async (key: string, body: Buffer) => {
    await putObject(target, key, body);
    sent.objects++;
    sent.bytes += body.length;
  };
  for (let i = 0; i < 3; i++) {
    const records = generateCloudTrailRecords({ seed: 500 + i, count: 20 });
    sent.cloudtrail += records.length;
    await put(
      `AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/m_${i}.json.gz`,
      gzipSync(cloudTrailObjectText(records)),
    );
  }
  const lines = generateFlowLines({ seed: 600, count: 30 });
  sent.vpcflow += lines.length - 1; // the first line is the header
  await put(
    'AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/28/m.log.gz',
    gzipSync(`${lines.join('\n')}\n`),
  );
  // One record that is not an object: dead-lettered with its code, its neighbours delivered.
  const [a, b] = generateCloudTrailRecords({ seed: 700, count: 2 }).map((r) => JSON.stringify(r));
  sent.cloudtrail += 2;
  await put(
    'AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/m_bad.json.gz',
    gzipSync(`{"Records":[${a},42,${b}]}`),
  );

  consumer = await startConsumer({
    aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
    source: {
      sqs: {
        queueUrls: [target.queueUrl],
        visibilityTimeout: 30,
        waitTimeSeconds: 1,
        shutdownGraceSeconds: 5,
      },
    },
    sinks: testSinks(prefix),
    deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
  });
  observe = await startObserveServer({
    port: 0,
    host: '127.0.0.1',
    metrics: consumer.metrics,
    checks: readinessChecks(target, consumer.pipeline.sinks),
    cacheMs: 0,
  });
  await waitFor('every object delivered and every message deleted', async () => {
    const { visible, inFlight } = await queueDepth(target.sqs, target.queueUrl);
    const delivered = await counterValue(consumer.metrics, 'asc_objects_total', { outcome: 'delivered' });
    return visible === 0 && inFlight === 0 && delivered === sent.objects;
  });
}, 120_000);

afterAll(async () => {
  await observe?.close();
  await consumer?.stop();
});

describe('/metrics during an integration run', () => {
  it('counts messages, objects, records by type, bytes, dead letters by code and sink outcomes as sent', async () => {
    const res = await fetch(`http://127.0.0.1:${observe.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const m = parseExposition(await res.text());

    // S3 sends one test event when the notification is configured: received and deleted like the rest.
    const testEvents = sum(m, 'asc_notifications_skipped_total', { reason: 'test-event' });
    expect(sum(m, 'asc_sqs_messages_received_total')).toBe(sent.objects + testEvents);
    expect(sum(m, 'asc_sqs_messages_deleted_total')).toBe(sent.objects + testEvents);
    expect(sum(m, 'asc_sqs_messages_returned_total')).toBe(0);

    expect(sum(m, 'asc_objects_total', { log_type: 'cloudtrail', outcome: 'delivered' })).toBe(4);
    expect(sum(m, 'asc_objects_total', { log_type: 'vpcflow', outcome: 'delivered' })).toBe(1);
    expect(sum(m, 'asc_object_bytes_total')).toBe(sent.bytes);

    // The non-object record is not a record: 62 CloudTrail records decoded, one dead letter.
    expect(sum(m, 'asc_records_total', { log_type: 'cloudtrail' })).toBe(sent.cloudtrail);
    expect(sum(m, 'asc_records_total', { log_type: 'vpcflow' })).toBe(sent.vpcflow);
    expect(sum(m, 'asc_dead_letters_total', { code: 'DECODE_NOT_OBJECT' })).toBe(1);
    expect(sum(m, 'asc_dead_letters_total')).toBe(1);

    const records = sent.cloudtrail + sent.vpcflow;
    for (const sink of ['search', 'hec']) {
      expect(sum(m, 'asc_sink_records_total', { sink, outcome: 'acked' }), sink).toBe(records);
      expect(sum(m, 'asc_sink_records_total', { sink, outcome: 'failed' }), sink).toBe(0);
    }
    expect(sum(m, 'asc_in_flight_objects')).toBe(0);
    expect(sum(m, 'asc_lag_seconds_count')).toBe(sent.objects);

    // Every bulk request and every event post is timed, under its sink's name.
    for (const sink of consumer.pipeline.sinks) {
      const { requests } = (sink as Sink & { stats(): { requests: number } }).stats();
      expect(requests, sink.name).toBeGreaterThan(0);
      expect(sum(m, 'asc_sink_request_seconds_count', { sink: sink.name }), sink.name).toBe(requests);
    }

    // The HEC sink's adaptive limit, between its floor and its default ceiling.
    const limit = sum(m, 'asc_sink_concurrency_limit', { sink: 'hec' });
    expect(limit).toBeGreaterThanOrEqual(1);
    expect(limit).toBeLessThanOrEqual(16);
  });

  it('/healthz is 200; /readyz is 200 with every queue and sink check ok', async () => {
    const health = await fetch(`http://127.0.0.1:${observe.port}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${observe.port}/readyz`);
    const body = (await ready.json()) as { ready: boolean; checks: Record<string, string> };
    expect(ready.status).toBe(200);
    expect(body.ready).toBe(true);
    expect(body.checks).toEqual({ 'sqs:queue': 'ok', 'sink:search': 'ok', 'sink:hec': 'ok' });
  });

  it('/readyz is 503 naming the failing check when sinks point at a closed port', async () => {
    const port = await closedPort();
    const config = validateConfig({
      sinks: {
        search: { flavour: 'opensearch', node: `http://127.0.0.1:${port}`, setup: { auto: false } },
        hec: { urls: [`http://127.0.0.1:${port}`], token: 'closed-port-token' },
      },
    });
    const sinks = await createSinks(config, createLogger('silent'));
    const broken = await startObserveServer({
      port: 0,
      host: '127.0.0.1',
      metrics: consumer.metrics,
      checks: readinessChecks(target, sinks),
      cacheMs: 0,
    });
    try {
      const res = await fetch(`http://127.0.0.1:${broken.port}/readyz`);
      const body = (await res.json()) as { ready: boolean; checks: Record<string, string> };
      expect(res.status).toBe(503);
      expect(body.ready).toBe(false);
      expect(body.checks['sqs:queue']).toBe('ok');
      expect(body.checks['sink:search']).not.toBe('ok');
      expect(body.checks['sink:hec']).toMatch(/no HEC endpoint is healthy.*127\.0\.0\.1/);
      expect((await fetch(`http://127.0.0.1:${broken.port}/healthz`)).status).toBe(200);
    } finally {
      await broken.close();
      await Promise.allSettled(sinks.map((s) => s.close()));
    }
  });
});
