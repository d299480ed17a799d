import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateIPSetCommand, DeleteIPSetCommand, GetIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { validateConfig } from '../config/index.js';
import { createLogger } from '../observe/index.js';
import type { Sink, SinkRecord } from '../types.js';
import { cloudTrailKey, createBenchBucket, removeBenchBucket } from './aws.js';
import { startBenchConsumer } from './consumer.js';
import { cloudTrailObject } from './objects.js';
import { type BenchServices, benchSinkConfig, consumerConfig, round } from './pipeline.js';
import { searchAdmin } from './search-admin.js';

export interface LatencyFigures {
  samples: number;
  p50Seconds: number;
  p99Seconds: number;
  maxSeconds: number;
}

export interface ObjectLatencyResult {
  objects: number;
  recordsPerObject: number;
  objectsPerSecond: number;
  /** Batch age used for both sinks here (the product defaults are HEC 5 s, search 1 s). */
  sinkFlushMs: number;
  /** Object PUT started → every record of it found by a search on its ids (includes the index refresh). */
  searchable?: LatencyFigures & { refreshInterval: string; missing: number };
  /**
   * Object PUT started → every record of it acknowledged by OpenSearch's bulk API (written, not yet
   * refreshed): the connector's part of the latency, with the SIEM's refresh interval excluded.
   */
  searchIndexed?: LatencyFigures & { missing: number };
  /** Object PUT started → every record of it acknowledged by HEC. */
  hecAccepted?: LatencyFigures & { missing: number };
}

export function percentiles(values: number[]): LatencyFigures {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? 0;
  return {
    samples: sorted.length,
    p50Seconds: round(at(0.5), 3),
    p99Seconds: round(at(0.99), 3),
    maxSeconds: round(sorted.at(-1) ?? 0, 3),
  };
}

/**
 * Small CloudTrail objects put at a steady, moderate rate while the consumer runs; for each, the time until
 * its records are searchable in OpenSearch (polled with one ids search for everything outstanding) and
 * until HEC acknowledged them (seen through the sink's delivery tokens).
 */
export async function benchObjectLatency(options: {
  services: BenchServices;
  objects: number;
  objectsPerSecond: number;
  indexPrefix: string;
  seed: number;
  sinkFlushMs?: number;
}): Promise<ObjectLatencyResult> {
  const { services } = options;
  const flushMs = options.sinkFlushMs ?? 200;
  const bucket = await createBenchBucket(services.moto, 'latency');
  const admin = services.search ? searchAdmin(services.search) : undefined;
  // When each record was acknowledged, per sink, seen through its delivery token.
  const acked = { hec: new Map<string, number>(), search: new Map<string, number>() };
  const wrapSink = (sink: Sink): Sink => {
    const seen = acked[sink.name as keyof typeof acked];
    if (!seen) return sink;
    return {
      name: sink.name,
      schema: sink.schema,
      flush: () => sink.flush(),
      sendNow: () => sink.sendNow?.(),
      close: () => sink.close(),
      write: (record: SinkRecord) =>
        sink.write({
          ...record,
          // Delegates each method: a delivery token keeps its methods on its prototype, not as own keys.
          delivery: {
            ack: () => {
              seen.set(record.id, performance.now());
              record.delivery.ack();
            },
            reject: (reason, code, sent) => record.delivery.reject(reason, code, sent),
            fail: (error) => record.delivery.fail(error),
          },
        }),
    };
  };
  const sinks = {
    ...(services.search
      ? benchSinkConfig(services, 'search', options.indexPrefix, { batchAgeMs: flushMs })
      : {}),
    ...(services.hec ? benchSinkConfig(services, 'hec', options.indexPrefix, { batchAgeMs: flushMs }) : {}),
  };
  const config = consumerConfig(bucket, sinks);
  // Long polling as in production, so an idle consumer picks a new message up as SQS delivers it.
  (config.source!.sqs as { waitTimeSeconds: number }).waitTimeSeconds = 20;
  const consumer = await startBenchConsumer(config, { wrapSink });
  const recordsPerObject = 5;
  const sent: { ids: string[]; putAt: number }[] = [];
  const searchable = new Map<string, number>();
  let polling = true;
  const poller = (async () => {
    if (!admin) return;
    while (polling) {
      const pending = sent.flatMap((s) => s.ids).filter((id) => !searchable.has(id));
      // An index being created answers with shard errors for a moment: that is "not yet", not a failure.
      if (pending.length > 0) {
        try {
          const res = await admin.client.search({
            index: `${options.indexPrefix}-*`,
            ignore_unavailable: true,
            allow_no_indices: true,
            body: { query: { ids: { values: pending } }, _source: false, size: pending.length },
          } as never);
          const now = performance.now();
          for (const hit of (res.body as { hits: { hits: { _id: string }[] } }).hits.hits) {
            if (!searchable.has(hit._id)) searchable.set(hit._id, now);
          }
        } catch {
          // retried on the next tick
        }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  try {
    const interval = 1000 / options.objectsPerSecond;
    const firstAt = performance.now();
    for (let i = 0; i < options.objects; i++) {
      const object = await cloudTrailObject(options.seed + i, recordsPerObject * 1_700, true);
      const wait = firstAt + i * interval - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const putAt = performance.now();
      await bucket.s3.send(
        new PutObjectCommand({ Bucket: bucket.bucket, Key: cloudTrailKey(i), Body: object.gz }),
      );
      sent.push({ ids: object.ids ?? [], putAt });
    }
    const done = () =>
      sent.every((s) =>
        s.ids.every((id) => (!admin || searchable.has(id)) && (!services.hec || acked.hec.has(id))),
      );
    const deadline = Date.now() + 30_000;
    while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  } finally {
    polling = false;
    await poller;
    await consumer.stop();
    await removeBenchBucket(bucket);
  }
  const latencies = (seen: Map<string, number>) => {
    const values: number[] = [];
    let missing = 0;
    for (const s of sent) {
      const times = s.ids.map((id) => seen.get(id));
      if (times.some((t) => t === undefined)) missing++;
      else values.push((Math.max(...(times as number[])) - s.putAt) / 1000);
    }
    return { ...percentiles(values), missing };
  };
  const result: ObjectLatencyResult = {
    objects: options.objects,
    recordsPerObject,
    objectsPerSecond: options.objectsPerSecond,
    sinkFlushMs: flushMs,
  };
  if (admin) {
    result.searchIndexed = latencies(acked.search);
    result.searchable = {
      ...latencies(searchable),
      refreshInterval: await admin.refreshInterval(`${options.indexPrefix}-*`).catch(() => 'unknown'),
    };
    await admin.close();
  }
  if (services.hec) result.hecAccepted = latencies(acked.hec);
  return result;
}

export interface AlertLatencyResult {
  alerts: number;
  /** Alert POST started → the address is in the WAF IP set (read back with GetIPSet). */
  blocked: LatencyFigures;
  /** Alert POST started → the webhook answered 202. */
  answered: LatencyFigures;
}

/**
 * The webhook app in this process with a token and a policy mapping a rule to waf-block-ip (applied, not
 * dry-run), against WAF in the emulator: Kibana-shaped alerts one after another, each for a new address.
 */
export async function benchAlertLatency(options: {
  moto: string;
  alerts: number;
}): Promise<AlertLatencyResult> {
  const { createWebhookApp, webhookConfigSchema } = await import('../webhook/index.js');
  const { createResponseRunner } = await import('../respond/index.js');
  const waf = new WAFV2Client({ region: 'us-east-1', endpoint: options.moto });
  const name = `asc-bench-${Date.now().toString(36)}`;
  const created = await waf.send(
    new CreateIPSetCommand({ Name: name, Scope: 'REGIONAL', IPAddressVersion: 'IPV4', Addresses: [] }),
  );
  const set = { name, id: created.Summary!.Id! };
  const dir = await mkdtemp(path.join(tmpdir(), 'asc-bench-respond-'));
  const token = `bench-${crypto.randomUUID()}`;
  const config = validateConfig(
    {
      aws: { region: 'us-east-1', endpoint: options.moto },
      respond: {
        dryRun: false,
        enabled: { 'waf-block-ip': true },
        waf: { ipv4Set: set },
        rateLimit: { max: options.alerts + 1 },
        auditLog: path.join(dir, 'audit.jsonl'),
        stateFile: path.join(dir, 'state.jsonl'),
      },
    },
    'bench',
  );
  const log = createLogger('silent');
  const app = await createWebhookApp(
    webhookConfigSchema.parse({
      rateLimit: { max: options.alerts * 2 + 10 },
      policy: [
        {
          name: 'bench',
          match: { rules: ['Bench Brute Force'] },
          action: 'waf-block-ip',
          targets: ['source.ip'],
        },
      ],
    }),
    { runner: createResponseRunner(config, { log }), secrets: { token }, log },
  );
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const blocked: number[] = [];
  const answered: number[] = [];
  try {
    for (let i = 0; i < options.alerts; i++) {
      // Public addresses: the responder refuses documentation and private ranges.
      const ip = `45.155.${200 + Math.floor(i / 250)}.${(i % 250) + 1}`;
      const started = performance.now();
      const res = await fetch(`${base}/alerts/kibana`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          rule: { id: 'bench', name: 'Bench Brute Force' },
          alert: { id: 'bench', uuid: `bench-${i}` },
          alerts: [{ '@timestamp': new Date().toISOString(), source: { ip } }],
        }),
      });
      const answer = (await res.json()) as { actions?: { status: string; reason?: string }[] };
      if (res.status !== 202) throw new Error(`webhook answered ${res.status} to alert ${i}`);
      const action = answer.actions?.[0];
      if (action?.status !== 'applied') {
        throw new Error(
          `alert ${i}: the block was ${action?.status ?? 'not planned'} (${action?.reason ?? 'no reason given'})`,
        );
      }
      answered.push((performance.now() - started) / 1000);
      for (;;) {
        const out = await waf.send(new GetIPSetCommand({ Name: set.name, Id: set.id, Scope: 'REGIONAL' }));
        if (out.IPSet?.Addresses?.includes(`${ip}/32`)) break;
        if (performance.now() - started > 10_000) throw new Error(`${ip} not blocked after 10 s`);
        await new Promise((r) => setTimeout(r, 10));
      }
      blocked.push((performance.now() - started) / 1000);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await app.close();
    const current = await waf
      .send(new GetIPSetCommand({ Name: set.name, Id: set.id, Scope: 'REGIONAL' }))
      .catch(() => undefined);
    if (current?.LockToken) {
      await waf
        .send(
          new DeleteIPSetCommand({
            Name: set.name,
            Id: set.id,
            Scope: 'REGIONAL',
            LockToken: current.LockToken,
          }),
        )
        .catch(() => undefined);
    }
    waf.destroy();
    await rm(dir, { recursive: true, force: true });
  }
  return { alerts: options.alerts, blocked: percentiles(blocked), answered: percentiles(answered) };
}
