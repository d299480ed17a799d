import { randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { recordAccount } from '../../src/map/account.js';
import { type HecEvent, toCim } from '../../src/map/cim/index.js';
import { createLogger } from '../../src/observe/index.js';
import {
  createHecSink,
  type HecSink,
  type HecSinkConfigInput,
  hecSinkConfigSchema,
} from '../../src/sink/hec/index.js';
import type { RawRecord, SinkRecord } from '../../src/types.js';
import {
  hecOutputOffset,
  type HecEvent as ReceivedEvent,
  readHecEvents,
  serviceEndpoints,
} from '../services/endpoints.js';
import { type FaultProxy, startFaultProxy } from './support/fault-proxy.js';

/**
 * The HEC sink against the real OpenTelemetry Collector HEC receiver (token auth, indexer acks, file
 * exporter), and through a fault-injecting proxy in front of it for errors the receiver never makes.
 * Each test tags its events with a fresh run id and reads back what the receiver wrote to count
 * exactly-once delivery and duplicates.
 */

let hec: { url: string; token: string; outputFile: string };
const quiet = createLogger('silent');

beforeAll(async () => {
  const endpoints = await serviceEndpoints();
  hec = endpoints.hec;
});

// --- reading what the receiver wrote ----------------------------------------------------------------
async function readReceived(fromOffset: number, runId: string): Promise<ReceivedEvent[]> {
  const all = await readHecEvents(hec.outputFile, { sinceOffset: fromOffset });
  return all.filter((e) => e.source?.includes(runId) || JSON.stringify(e.event).includes(runId));
}

function idOf(r: ReceivedEvent): string | undefined {
  const body = r.event as { eventID?: string } | string;
  return typeof body === 'string' ? body : body?.eventID;
}

/** Waits until at least `expected` of this run's events are in the file, then returns their ids in file order. */
async function receivedIds(fromOffset: number, runId: string, expected: number): Promise<string[]> {
  const deadline = Date.now() + 15_000;
  let ids: string[] = [];
  while (Date.now() < deadline) {
    ids = (await readReceived(fromOffset, runId)).map(idOf).filter((x): x is string => x !== undefined);
    if (ids.length >= expected) {
      // Give the exporter one more flush to surface any duplicates still buffered.
      await new Promise((r) => setTimeout(r, 400));
      return (await readReceived(fromOffset, runId)).map(idOf).filter((x): x is string => x !== undefined);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return ids;
}

function duplicates(ids: string[]): number {
  return ids.length - new Set(ids).size;
}

// --- records -------------------------------------------------------------------------------------
interface Tracked {
  id: string;
  record: SinkRecord<HecEvent>;
  outcomes: { kind: string; code?: string; error?: Error }[];
}

function cloudTrailRecord(runId: string, object: string, n: number): RawRecord {
  return {
    logType: 'cloudtrail',
    origin: { bucket: 'it-bucket', key: `${runId}/${object}.json.gz`, record: n },
    event: {
      eventVersion: '1.08',
      eventTime: new Date(Date.UTC(2024, 0, 1, 0, 0, n)).toISOString(),
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
      eventType: 'AwsApiCall',
      readOnly: false,
      awsRegion: 'us-east-1',
      sourceIPAddress: '203.0.113.5',
      userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'admin' },
      requestParameters: { userName: `user-${n}` },
      responseElements: { user: { userName: `user-${n}`, userId: `AIDA${n}` } },
      eventID: `${runId}-${object}-${n}`,
    },
  };
}

function track(raw: RawRecord): Tracked {
  const doc = toCim(raw);
  const id = (raw.logType === 'cloudtrail' ? raw.event.eventID : raw.line) as string;
  const outcomes: Tracked['outcomes'] = [];
  return {
    id,
    outcomes,
    record: {
      id,
      logType: raw.logType,
      doc,
      origin: raw.origin,
      // As the pipeline does: the account whose log it is, for per-account indexes.
      account: recordAccount(raw),
      delivery: {
        ack: () => outcomes.push({ kind: 'ack' }),
        reject: (_reason, code) => outcomes.push({ kind: 'reject', code }),
        fail: (error) => outcomes.push({ kind: 'fail', error }),
      },
    },
  };
}

function makeRecords(runId: string, objects: number, perObject: number): Tracked[] {
  const out: Tracked[] = [];
  for (let o = 0; o < objects; o++) {
    for (let n = 1; n <= perObject; n++) out.push(track(cloudTrailRecord(runId, `obj${o}`, n)));
  }
  return out;
}

function sinkFor(url: string, overrides: Partial<HecSinkConfigInput> = {}): HecSink {
  return createHecSink(
    hecSinkConfigSchema.parse({
      urls: [url],
      token: hec.token,
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
      healthCheckIntervalMs: 50,
      ...overrides,
    }),
    { logger: quiet },
  );
}

async function writeAll(sink: HecSink, records: Tracked[]): Promise<void> {
  for (const r of records) await sink.write(r.record);
  await sink.flush();
}

function kinds(records: Tracked[]): Record<string, number> {
  const count: Record<string, number> = {};
  for (const r of records) {
    expect(r.outcomes, `record ${r.id} settled exactly once`).toHaveLength(1);
    const k = r.outcomes[0]!.kind;
    count[k] = (count[k] ?? 0) + 1;
  }
  return count;
}

let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
});

describe('HEC sink → real HEC receiver', () => {
  it.each([
    ['gzip', true],
    ['plain', false],
  ])('delivers every record exactly once, complete and in order per object (%s)', async (_name, gzip) => {
    const runId = `run-${randomUUID()}`;
    const offset = hecOutputOffset(hec.outputFile);
    const records = makeRecords(runId, 3, 40);
    const sink = sinkFor(hec.url, { gzip, maxInFlight: 1, batch: { maxEvents: 25 } });
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ ack: 120 });
    const ids = await receivedIds(offset, runId, 120);
    expect(ids).toHaveLength(120);
    expect(duplicates(ids)).toBe(0);
    for (let o = 0; o < 3; o++) {
      const mine = ids.filter((id) => id.includes(`-obj${o}-`));
      expect(mine).toEqual(records.filter((r) => r.id.includes(`-obj${o}-`)).map((r) => r.id));
    }
  });

  it('carries source, sourcetype and the CIM fields to the receiver', async () => {
    const runId = `run-${randomUUID()}`;
    const offset = hecOutputOffset(hec.outputFile);
    const records = makeRecords(runId, 1, 2);
    const sink = sinkFor(hec.url);
    await writeAll(sink, records);
    await sink.close();
    await receivedIds(offset, runId, 2);
    const got = await readReceived(offset, runId);
    expect(got[0]).toMatchObject({
      source: `s3://it-bucket/${runId}/obj0.json.gz`,
      sourcetype: 'aws:cloudtrail',
      fields: { action: 'created', object_category: 'user', vendor_product: 'AWS CloudTrail' },
    });
    expect(got[0]?.time).toBe(Date.UTC(2024, 0, 1, 0, 0, 1) / 1000);
  });

  it("routes each event to its account's index, else its log type's, and the receiver files it there", async () => {
    const runId = `run-${randomUUID()}`;
    const offset = hecOutputOffset(hec.outputFile);
    const tenant = cloudTrailRecord(runId, 'tenant', 1);
    if (tenant.logType === 'cloudtrail') tenant.event.recipientAccountId = '444455556666';
    const names =
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
    const line = `2 123456789012 eni-${runId} 10.0.0.1 10.0.0.2 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK`;
    const values = line.split(' ');
    const flow: RawRecord = {
      logType: 'vpcflow',
      origin: { bucket: 'it-bucket', key: `${runId}/flows.log.gz`, record: 1 },
      fields: Object.fromEntries(names.split(' ').map((name, i) => [name, values[i]!])),
      line,
    };
    const records = [track(cloudTrailRecord(runId, 'own', 1)), track(tenant), track(flow)];
    const sink = sinkFor(hec.url, {
      index: 'aws',
      indexes: { vpcflow: 'aws_vpcflow' },
      accountIndexes: { '444455556666': 'tenant_b' },
    });
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ ack: 3 });
    await receivedIds(offset, runId, 3);
    const got = await readReceived(offset, runId);
    const indexOf = (part: string) => got.find((e) => e.source?.includes(part))?.index;
    expect([indexOf('/own'), indexOf('/tenant'), indexOf('/flows')]).toEqual([
      'aws',
      'tenant_b',
      'aws_vpcflow',
    ]);
  });

  it('uses indexer acks when enabled: every batch acked through /services/collector/ack', async () => {
    proxy = await startFaultProxy(hec.url);
    const runId = `run-${randomUUID()}`;
    const offset = hecOutputOffset(hec.outputFile);
    const records = makeRecords(runId, 2, 30);
    const sink = sinkFor(proxy.url, { ack: { enabled: true, pollIntervalMs: 50 }, batch: { maxEvents: 10 } });
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ ack: 60 });
    expect(proxy.counts.ackPolls).toBeGreaterThan(0);
    const ids = await receivedIds(offset, runId, 60);
    expect(duplicates(ids)).toBe(0);
    expect(new Set(ids).size).toBe(60);
  });

  it('refuses a wrong token with HEC_TOKEN_INVALID and fails (does not drop) the records', async () => {
    const records = makeRecords(`run-${randomUUID()}`, 1, 5);
    const sink = createHecSink(hecSinkConfigSchema.parse({ urls: [hec.url], token: 'not-the-token' }), {
      logger: quiet,
    });
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ fail: 5 });
    expect(records[0]!.outcomes[0]!.error).toMatchObject({ code: 'HEC_TOKEN_INVALID' });
    expect(sink.stats().blocked).toBe(true);
  });
});

describe('HEC sink → fault proxy → real HEC receiver', () => {
  it('rides out a 503 storm with Retry-After: all delivered once', async () => {
    proxy = await startFaultProxy(hec.url);
    proxy.onEvent = (req) =>
      req.n < 6
        ? {
            kind: 'reply',
            status: 503,
            body: { text: 'Server is busy', code: 9 },
            headers: { 'retry-after': '0' },
          }
        : { kind: 'pass' };
    const runId = `run-${randomUUID()}`;
    const offset = hecOutputOffset(hec.outputFile);
    const records = makeRecords(runId, 2, 50);
    const sink = sinkFor(proxy.url, { batch: { maxEvents: 20 } });
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ ack: 100 });
    expect(sink.stats().retried).toBeGreaterThan(0);
    const ids = await receivedIds(offset, runId, 100);
    expect(ids).toHaveLength(100);
    expect(duplicates(ids)).toBe(0);
  });

  it('survives dropped connections; duplicates only where the receiver took a batch the client never heard of', async () => {
    proxy = await startFaultProxy(hec.url);
    proxy.onEvent = (req) =>
      req.n === 1 ? { kind: 'drop' } : req.n === 3 ? { kind: 'drop-after-forward' } : { kind: 'pass' };
    const runId = `run-${randomUUID()}`;
    const offset = hecOutputOffset(hec.outputFile);
    const records = makeRecords(runId, 1, 100);
    const sink = sinkFor(proxy.url, { batch: { maxEvents: 10 }, maxInFlight: 1 });
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ ack: 100 });
    const ids = await receivedIds(offset, runId, 100);
    expect(new Set(ids).size).toBe(100);
    // The drop-after-forward batch (10 events) was indexed and then, correctly, sent again.
    expect(duplicates(ids)).toBe(10);
    expect(duplicates(ids)).toBeLessThanOrEqual(sink.stats().retried);
  });

  it('code 6 for one event: that one is rejected, the rest of the batch arrives once', async () => {
    proxy = await startFaultProxy(hec.url);
    const runId = `run-${randomUUID()}`;
    const poison = `${runId}-obj0-7`;
    proxy.onEvent = (req) => {
      const at = req.events.findIndex((e) => (e.event as { eventID?: string }).eventID === poison);
      return at >= 0
        ? {
            kind: 'reply',
            status: 400,
            body: { text: 'Invalid data format', code: 6, 'invalid-event-number': at },
          }
        : { kind: 'pass' };
    };
    const offset = hecOutputOffset(hec.outputFile);
    const records = makeRecords(runId, 1, 30);
    const sink = sinkFor(proxy.url, { batch: { maxEvents: 30 } });
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ ack: 29, reject: 1 });
    expect(records.find((r) => r.id === poison)!.outcomes[0]).toMatchObject({
      kind: 'reject',
      code: 'HEC_REJECTED',
    });
    const ids = await receivedIds(offset, runId, 29);
    expect(ids).toHaveLength(29);
    expect(ids).not.toContain(poison);
    expect(duplicates(ids)).toBe(0);
  });

  it('delayed acks: waits, then acks without resending', async () => {
    proxy = await startFaultProxy(hec.url);
    const started = Date.now();
    proxy.holdAck = () => Date.now() - started < 600;
    const runId = `run-${randomUUID()}`;
    const offset = hecOutputOffset(hec.outputFile);
    const records = makeRecords(runId, 1, 20);
    const sink = sinkFor(proxy.url, { ack: { enabled: true, pollIntervalMs: 50, maxPollIntervalMs: 200 } });
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ ack: 20 });
    expect(sink.stats().resent).toBe(0);
    const ids = await receivedIds(offset, runId, 20);
    expect(duplicates(ids)).toBe(0);
  });

  it('lost acks: the batch is resent after the ack time-out; duplicates equal the counted resends', async () => {
    proxy = await startFaultProxy(hec.url);
    // The first batch's ack never comes: the receiver indexed it, the client cannot know.
    let lost: string | undefined;
    proxy.holdAck = (channel, ackId) => {
      lost ??= `${channel}/${ackId}`;
      return lost === `${channel}/${ackId}`;
    };
    const runId = `run-${randomUUID()}`;
    const offset = hecOutputOffset(hec.outputFile);
    const records = makeRecords(runId, 1, 10);
    const sink = sinkFor(proxy.url, {
      maxInFlight: 1,
      ack: { enabled: true, pollIntervalMs: 50, maxPollIntervalMs: 100, timeoutMs: 500 },
    });
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ ack: 10 });
    const resent = sink.stats().resent;
    expect(resent).toBeGreaterThan(0);
    const ids = await receivedIds(offset, runId, 10 + resent);
    expect(new Set(ids).size).toBe(10);
    expect(duplicates(ids)).toBe(resent);
  });

  it('adaptive concurrency against a receiver with room for 2 requests: the limit settles at or below 3, every event arrives once', async () => {
    proxy = await startFaultProxy(hec.url);
    const capacity = 2;
    proxy.capacity = capacity;
    // Each request the receiver takes holds its place a while, so that requests overlap as they would at
    // an indexer under load.
    proxy.onEvent = () => ({ kind: 'delay', ms: 20 });
    const runId = `run-${randomUUID()}`;
    const offset = hecOutputOffset(hec.outputFile);
    const records = makeRecords(runId, 4, 50);
    const limits: number[] = [];
    const sink = createHecSink(
      hecSinkConfigSchema.parse({
        urls: [proxy.url],
        token: hec.token,
        retry: { initialDelayMs: 20, maxDelayMs: 200 },
        healthCheckIntervalMs: 50,
        maxInFlight: 12,
        batch: { maxEvents: 5 },
      }),
      { logger: quiet, onResponse: (info) => limits.push(info.concurrencyLimit) },
    );
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ ack: 200 });
    const ids = await receivedIds(offset, runId, 200);
    expect(ids).toHaveLength(200);
    expect(duplicates(ids)).toBe(0);

    // The receiver pushed back, and the limit came down to its capacity: over the second half of the run
    // it stays at or below one above it (it keeps probing one step up), never near the ceiling of 12.
    expect(proxy.counts.overCapacity).toBeGreaterThan(0);
    expect(proxy.counts.peakOpen).toBe(capacity);
    const secondHalf = limits.slice(limits.length / 2).sort((a, b) => a - b);
    expect(secondHalf[Math.floor(secondHalf.length / 2)]).toBeLessThanOrEqual(capacity + 1);
    expect(Math.max(...secondHalf)).toBeLessThanOrEqual(capacity + 2);
    expect(sink.stats().concurrencyLimit).toBeLessThanOrEqual(capacity + 2);
    expect(proxy.counts.overCapacity / proxy.counts.eventPosts).toBeLessThan(0.25);
  });

  it('token disabled (403 code 1): blocked with HEC_TOKEN_DISABLED, records failed for redelivery', async () => {
    proxy = await startFaultProxy(hec.url);
    proxy.onEvent = () => ({ kind: 'reply', status: 403, body: { text: 'Token disabled', code: 1 } });
    const records = makeRecords(`run-${randomUUID()}`, 1, 5);
    const sink = sinkFor(proxy.url);
    await writeAll(sink, records);
    await sink.close();
    expect(kinds(records)).toEqual({ fail: 5 });
    expect(records[0]!.outcomes[0]!.error).toMatchObject({ code: 'HEC_TOKEN_DISABLED' });
  });
});
