import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it, vi } from 'vitest';
import { toCim } from '../../../src/map/cim/index.js';
import { documentId, toEcs } from '../../../src/map/ecs/index.js';
import { createLogger, createMetrics } from '../../../src/observe/index.js';
import {
  type BoundedDeadLetter,
  type DeadLetter,
  directoryDeadLetter,
  s3DeadLetter,
} from '../../../src/pipeline/dead-letter.js';
import { DecodeActivity, type ObjectPipeline, processObject } from '../../../src/pipeline/process-object.js';
import type { Schema, Sink, SinkRecord } from '../../../src/types.js';

/** A sink that keeps what it is given and settles each record as `decide` says. */
function memorySink(
  name: string,
  schema: Schema,
  decide: (r: SinkRecord) => 'ack' | 'reject' | 'fail' = () => 'ack',
) {
  const received: SinkRecord[] = [];
  const sink: Sink & { received: SinkRecord[] } = {
    name,
    schema,
    received,
    async write(record) {
      received.push(record);
      const verdict = decide(record);
      // Settle later, as a real sink does after its request returns.
      setTimeout(() => {
        if (verdict === 'ack') record.delivery.ack();
        else if (verdict === 'reject') record.delivery.reject('mapper_parsing_exception', 'SEARCH_REJECTED');
        else record.delivery.fail(new Error('sink down'));
      }, 1);
    },
    async flush() {},
    async close() {},
  };
  return sink;
}

function memoryDeadLetter(): DeadLetter & { entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  return {
    entries,
    async write(entry) {
      entries.push(entry);
    },
    async close() {},
  };
}

function pipelineWith(
  sinks: Sink[],
  deadLetter = memoryDeadLetter(),
): ObjectPipeline & { deadLetter: typeof deadLetter } {
  return {
    sinks,
    deadLetter,
    metrics: createMetrics(),
    log: createLogger('silent'),
    mappers: { id: documentId, ecs: (r) => toEcs(r), cim: (r) => ({ cim: r.origin.record }) },
  };
}

const record = (i: number) => ({
  eventVersion: '1.08',
  eventTime: `2026-11-28T10:00:0${i}Z`,
  eventSource: 'iam.amazonaws.com',
  eventName: 'CreateUser',
  awsRegion: 'us-east-1',
  sourceIPAddress: '203.0.113.7',
  userIdentity: { type: 'IAMUser', userName: 'alice', arn: 'arn:aws:iam::123456789012:user/alice' },
  eventID: `00000000-0000-0000-0000-00000000000${i}`,
  recipientAccountId: '123456789012',
});

async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield p;
}

describe('processObject', () => {
  it('maps each record once per schema, sends it to every sink and dead-letters a bad record between good ones', async () => {
    const text = `{"Records":[${JSON.stringify(record(1))},{"eventID": oops},${JSON.stringify(record(2))}]}`;
    const ecs = memorySink('search', 'ecs');
    const cim = memorySink('hec', 'cim');
    const pipeline = pipelineWith([ecs, cim]);
    const outcome = await processObject(chunks(gzipSync(text)), pipeline, {
      origin: { bucket: 'b', key: 'AWSLogs/1/CloudTrail/x.json.gz' },
    });
    expect(outcome).toMatchObject({
      status: 'delivered',
      records: 2,
      deadLettered: 1,
      logType: 'cloudtrail',
    });
    expect(ecs.received.map((r) => r.id)).toEqual([record(1).eventID, record(2).eventID]);
    expect((ecs.received[0]!.doc as { event: { action: string } }).event.action).toBe('CreateUser');
    expect(cim.received.map((r) => r.doc)).toEqual([{ cim: 1 }, { cim: 3 }]);
    expect(pipeline.deadLetter.entries).toHaveLength(1);
    expect(pipeline.deadLetter.entries[0]).toMatchObject({
      code: 'DECODE_INVALID_JSON',
      origin: { key: 'AWSLogs/1/CloudTrail/x.json.gz', record: 2 },
    });
  });

  it('refuses a Parquet object larger than its configured limit, and reads one within it', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const parquet = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'version', data: [5, 5], type: 'INT32' },
          { name: 'srcaddr', data: ['10.0.0.1', '10.0.0.2'], type: 'STRING' },
          { name: 'log_status', data: ['OK', 'OK'], type: 'STRING' },
        ],
      }),
    );
    const origin = { bucket: 'b', key: 'AWSLogs/1/vpcflowlogs/us-east-1/2026/11/29/f.parquet' };
    const small = { ...pipelineWith([memorySink('search', 'ecs')]), maxParquetBytes: parquet.length - 1 };
    const refused = await processObject(chunks(parquet), small, { origin });
    expect(refused.status).toBe('failed');
    expect(refused.errors.map(String).join()).toMatch(/DECODE_PARQUET_TOO_LARGE/);
    const sink = memorySink('search', 'ecs');
    const enough = { ...pipelineWith([sink]), maxParquetBytes: parquet.length };
    expect(await processObject(chunks(parquet), enough, { origin })).toMatchObject({
      status: 'delivered',
      records: 2,
    });
  });

  it('hands each record only to the sinks that take its log type, and maps only what they need', async () => {
    const flows = memorySink('search', 'ecs');
    const trails = memorySink('hec', 'cim');
    const pipeline = pipelineWith([
      Object.assign(flows, { logTypes: ['vpcflow'] as const }),
      Object.assign(trails, { logTypes: ['cloudtrail'] as const }),
    ]);
    const made = { ecs: 0, cim: 0 };
    const { ecs, cim } = pipeline.mappers;
    pipeline.mappers = {
      ...pipeline.mappers,
      ecs: (r) => {
        made.ecs++;
        return ecs(r);
      },
      cim: (r) => {
        made.cim++;
        return cim(r);
      },
    };
    const text = `{"Records":[${JSON.stringify(record(1))},${JSON.stringify(record(2))}]}`;
    const outcome = await processObject(chunks(gzipSync(text)), pipeline, {
      origin: { bucket: 'b', key: 'AWSLogs/1/CloudTrail/x.json.gz' },
    });
    expect(outcome).toMatchObject({ status: 'delivered', records: 2 });
    expect(trails.received).toHaveLength(2);
    expect(flows.received).toHaveLength(0);
    expect(made).toEqual({ ecs: 0, cim: 2 });
  });

  it('shows in-stream detection every record that mapped, as decoded: a HEC-only pipeline makes no ECS document for it', async () => {
    const hec = memorySink('hec', 'cim');
    const seen: [unknown, string][] = [];
    let ecsMade = 0;
    const pipeline: ObjectPipeline = {
      ...pipelineWith([hec]),
      observe: (r, id) => seen.push([r.logType === 'cloudtrail' ? r.event.eventID : undefined, id]),
    };
    pipeline.mappers = {
      ...pipeline.mappers,
      ecs: (r) => {
        ecsMade++;
        return toEcs(r);
      },
      cim: (r) => toCim(r),
    };
    // The second record has no eventName: CIM refuses it, and it is dead-lettered, not observed.
    const nameless = { ...record(2), eventName: undefined };
    const text = JSON.stringify({ Records: [record(1), nameless, record(3)] });
    const outcome = await processObject(chunks(Buffer.from(text)), pipeline, {
      origin: { bucket: 'b', key: 'AWSLogs/1/CloudTrail/x.json' },
    });
    expect(outcome).toMatchObject({ status: 'delivered', records: 3, deadLettered: 1 });
    expect(seen).toEqual([
      [record(1).eventID, record(1).eventID],
      [record(3).eventID, record(3).eventID],
    ]);
    expect(ecsMade).toBe(0);
    expect(hec.received).toHaveLength(2);
  });

  it('dead-letters a record the ECS mapper refuses, with its reason, counts it and delivers its neighbours', async () => {
    const sink = memorySink('search', 'ecs');
    const pipeline = pipelineWith([sink]);
    const timeless = { ...record(2), eventTime: undefined };
    const outcome = await processObject(
      chunks(Buffer.from(JSON.stringify({ Records: [record(1), timeless, record(3)] }))),
      pipeline,
      { origin: { bucket: 'b', key: 'AWSLogs/1/CloudTrail/y.json' }, logType: 'cloudtrail' },
    );
    expect(outcome).toMatchObject({ status: 'delivered', records: 3, deadLettered: 1 });
    expect(sink.received.map((r) => r.origin.record)).toEqual([1, 3]);
    expect(pipeline.deadLetter.entries).toEqual([
      expect.objectContaining({
        code: 'MAP_FAILED',
        reason: 's3://b/AWSLogs/1/CloudTrail/y.json record 2: eventTime is missing',
        origin: expect.objectContaining({ record: 2 }),
      }),
    ]);
    const counted = await pipeline.metrics.deadLetters.get();
    expect(counted.values).toEqual([expect.objectContaining({ labels: { code: 'MAP_FAILED' }, value: 1 })]);
  });

  it('sends a record a sink rejects to the dead letter, naming the sink, and still delivers the rest', async () => {
    const sink = memorySink('search', 'ecs', (r) => (r.origin.record === 2 ? 'reject' : 'ack'));
    const pipeline = pipelineWith([sink]);
    const outcome = await processObject(
      chunks(Buffer.from(JSON.stringify([record(1), record(2), record(3)]))),
      pipeline,
      {
        origin: { key: 'local.json' },
        logType: 'cloudtrail',
      },
    );
    expect(outcome).toMatchObject({ status: 'delivered', records: 3, deadLettered: 1 });
    expect(pipeline.deadLetter.entries[0]).toMatchObject({
      sink: 'search',
      code: 'SEARCH_REJECTED',
      origin: { record: 2 },
    });
  });

  it('reports the object failed when one sink gives up, though the other acknowledged everything', async () => {
    const ok = memorySink('search', 'ecs');
    const down = memorySink('hec', 'cim', () => 'fail');
    const outcome = await processObject(
      chunks(Buffer.from(JSON.stringify({ Records: [record(1)] }))),
      pipelineWith([ok, down]),
      {
        origin: { key: 'x.json' },
        logType: 'cloudtrail',
      },
    );
    expect(outcome.status).toBe('failed');
    expect(ok.received).toHaveLength(1);
  });

  it('delivers the records before a truncated gzip stream and reports the object failed', async () => {
    const whole = gzipSync(
      `{"Records":[${Array.from({ length: 200 }, (_, i) => JSON.stringify(record(i % 10))).join(',')}]}`,
    );
    const truncated = whole.subarray(0, Math.floor(whole.length * 0.6));
    const sink = memorySink('search', 'ecs');
    const outcome = await processObject(chunks(truncated), pipelineWith([sink]), {
      origin: { key: 't.json.gz' },
      logType: 'cloudtrail',
    });
    expect(outcome.status).toBe('failed');
    expect(sink.received.length).toBeGreaterThan(0);
    expect(sink.received.length).toBeLessThan(200);
  });

  it('fails the object when the source stream breaks', async () => {
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(`[${JSON.stringify(record(1))},`);
      throw new Error('socket hang up');
    }
    const sink = memorySink('search', 'ecs');
    const outcome = await processObject(broken(), pipelineWith([sink]), {
      origin: { key: 'b.json' },
      logType: 'cloudtrail',
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.errors.map((e) => e.message).join()).toContain('socket hang up');
  });

  it('has the sinks send at once when the last object being decoded is done, not while another still decodes', async () => {
    // A sink that sends (and then acknowledges) only when asked: without sendNow its records would wait forever.
    let held: SinkRecord[] = [];
    const sends: number[] = [];
    const sink: Sink = {
      name: 'hec',
      schema: 'cim',
      async write(r) {
        held.push(r);
      },
      sendNow() {
        sends.push(held.length);
        const batch = held;
        held = [];
        for (const r of batch) setTimeout(() => r.delivery.ack(), 1);
      },
      async flush() {},
      async close() {},
    };
    const pipeline = { ...pipelineWith([sink]), activity: new DecodeActivity([sink]) };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    async function* slow(): AsyncGenerator<Uint8Array> {
      // Longer than the decoder's 512-byte look-ahead, so record 3 comes out before the gate opens.
      yield Buffer.from(`[${JSON.stringify(record(3))},${' '.repeat(512)}`);
      await gate;
      yield Buffer.from(`${JSON.stringify(record(4))}]`);
    }
    const second = processObject(slow(), pipeline, { origin: { key: 'b.json' }, logType: 'cloudtrail' });
    const first = processObject(
      chunks(Buffer.from(JSON.stringify({ Records: [record(1), record(2)] }))),
      pipeline,
      {
        origin: { key: 'a.json' },
        logType: 'cloudtrail',
      },
    );
    // The first object is decoded while the second still is: nothing is sent yet.
    await vi.waitFor(() => expect(held).toHaveLength(3));
    expect(sends).toEqual([]);
    release();
    const outcomes = await Promise.all([first, second]);
    expect(outcomes.map((o) => [o.status, o.records])).toEqual([
      ['delivered', 2],
      ['delivered', 2],
    ]);
    expect(sends).toEqual([4]);
  });

  it('fails the object, and so returns its message, when a sink write rejects without settling the record', async () => {
    const closed: Sink = {
      name: 'hec',
      schema: 'cim',
      write: () => Promise.reject(new Error('HEC_CLOSED')),
      async flush() {},
      async close() {},
    };
    const throwsSync: Sink = {
      ...closed,
      name: 'file',
      write: () => {
        throw new Error('EISDIR');
      },
    };
    const pipeline = pipelineWith([closed, throwsSync]);
    const outcome = await Promise.race([
      processObject(chunks(Buffer.from(JSON.stringify([record(1), record(2)]))), pipeline, {
        origin: { key: 'c.json' },
        logType: 'cloudtrail',
      }),
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 2000)),
    ]);
    expect(outcome).toMatchObject({ status: 'failed', records: 2, failures: 4 });
    if (outcome === 'hung') return;
    expect(outcome.errors.map((e) => e.message)).toEqual(['HEC_CLOSED', 'EISDIR']);
    const settled = await pipeline.metrics.sinkRecords.get();
    expect(settled.values).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ labels: { sink: 'hec', outcome: 'failed' }, value: 2 }),
        expect.objectContaining({ labels: { sink: 'file', outcome: 'failed' }, value: 2 }),
      ]),
    );
  });

  it('keeps the settlement a sink made before its write rejected', async () => {
    const sink: Sink = {
      name: 'search',
      schema: 'ecs',
      async write(r) {
        r.delivery.ack();
        throw new Error('late failure');
      },
      async flush() {},
      async close() {},
    };
    const outcome = await processObject(
      chunks(Buffer.from(JSON.stringify([record(1)]))),
      pipelineWith([sink]),
      {
        origin: { key: 'd.json' },
        logType: 'cloudtrail',
      },
    );
    expect(outcome).toMatchObject({ status: 'delivered', records: 1, errors: [] });
  });
});

describe('asc_dead_letters_total', () => {
  const counted = async (pipeline: ObjectPipeline) =>
    (await pipeline.metrics.deadLetters.get()).values.map((v) => [v.labels.code, v.value]);

  it('does not count an object-level decode fault: the object is retried, nothing is dead-lettered', async () => {
    const whole = gzipSync(
      `{"Records":[${Array.from({ length: 200 }, (_, i) => JSON.stringify(record(i % 10))).join(',')}]}`,
    );
    const pipeline = pipelineWith([memorySink('search', 'ecs')]);
    const outcome = await processObject(chunks(whole.subarray(0, Math.floor(whole.length * 0.6))), pipeline, {
      origin: { key: 't.json.gz' },
      logType: 'cloudtrail',
    });
    expect(outcome).toMatchObject({ status: 'failed', deadLettered: 0 });
    expect(pipeline.deadLetter.entries).toEqual([]);
    expect(await counted(pipeline)).toEqual([]);
  });

  it("counts a record a sink rejects, under the sink's code, once it is in the dead letter", async () => {
    const pipeline = pipelineWith([
      memorySink('search', 'ecs', (r) => (r.origin.record === 2 ? 'reject' : 'ack')),
    ]);
    await processObject(chunks(Buffer.from(JSON.stringify([record(1), record(2), record(3)]))), pipeline, {
      origin: { key: 'r.json' },
      logType: 'cloudtrail',
    });
    expect(pipeline.deadLetter.entries).toHaveLength(1);
    expect(await counted(pipeline)).toEqual([['SEARCH_REJECTED', 1]]);
  });

  it('does not count a record whose dead-letter write failed', async () => {
    const broken: DeadLetter & { entries: Record<string, unknown>[] } = {
      entries: [],
      write: () => Promise.reject(new Error('disk full')),
      async close() {},
    };
    const pipeline = pipelineWith([memorySink('search', 'ecs', () => 'reject')], broken);
    const outcome = await processObject(chunks(Buffer.from(JSON.stringify([record(1)]))), pipeline, {
      origin: { key: 'f.json' },
      logType: 'cloudtrail',
    });
    expect(outcome.status).toBe('failed');
    expect(await counted(pipeline)).toEqual([]);
  });
});

/** A VPC flow object whose every line is of a version no decoder knows (a new AWS format). */
function unknownVersionFlows(lines: number): Buffer {
  const header =
    'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n';
  const body = Array.from(
    { length: lines },
    (_, i) =>
      `9 123456789012 eni-0a1b2c3d 10.0.${(i >> 8) & 255}.${i & 255} 203.0.113.9 ${1024 + (i % 5000)} 443 6 10 840 1700000000 1700000060 ACCEPT OK\n`,
  ).join('');
  return Buffer.from(header + body);
}

/**
 * Passes everything on to `dl`, noting after each write how many bytes it holds not yet written: they
 * only grow on a write, so the largest seen is the most it ever held.
 */
function watched(dl: BoundedDeadLetter) {
  const seen = { peak: 0, largestEntry: 0, writes: 0 };
  const deadLetter: DeadLetter = {
    write(entry) {
      const before = dl.pendingBytes;
      const written = dl.write(entry);
      seen.writes++;
      seen.largestEntry = Math.max(seen.largestEntry, dl.pendingBytes - before);
      seen.peak = Math.max(seen.peak, dl.pendingBytes);
      return written;
    },
    whenRoom: () => dl.whenRoom(),
    close: () => dl.close(),
  };
  return { deadLetter, seen };
}

describe('dead-letter backpressure', () => {
  it('decodes no further while the dead letter holds more than maxPendingBytes, and still writes every line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-dl-'));
    try {
      const maxPendingBytes = 256 * 1024;
      const { deadLetter, seen } = watched(directoryDeadLetter(dir, { maxPendingBytes }));
      const pipeline = pipelineWith([memorySink('search', 'ecs')], deadLetter as never);
      const lines = 50_000;
      const outcome = await processObject(chunks(gzipSync(unknownVersionFlows(lines))), pipeline, {
        origin: { bucket: 'b', key: 'AWSLogs/1/vpcflowlogs/us-east-1/x.log.gz' },
        logType: 'vpcflow',
      });
      await deadLetter.close();

      expect(outcome).toMatchObject({ status: 'delivered', records: 0, deadLettered: lines, failures: 0 });
      expect(seen.writes).toBe(lines);
      // Decoding resumes only at or below the bound, so one entry at most crosses it.
      expect(seen.peak).toBeGreaterThan(maxPendingBytes / 2);
      expect(seen.peak).toBeLessThanOrEqual(maxPendingBytes + seen.largestEntry);
      const stored = readdirSync(dir).flatMap((f) =>
        readFileSync(join(dir, f), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { code: string; origin: { record: number }; raw: string }),
      );
      expect(stored).toHaveLength(lines);
      expect(stored.every((e) => e.code === 'DECODE_FLOW_UNKNOWN_VERSION')).toBe(true);
      expect(stored.map((e) => e.origin.record)).toEqual(Array.from({ length: lines }, (_, i) => i + 2));
      expect(stored[0]!.raw).toMatch(/^9 123456789012 eni-0a1b2c3d 10\.0\.0\.0 /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with the S3 dead letter: uploads as soon as decoding waits, at most two at a time, and stores every line', async () => {
    const uploads: string[] = [];
    const inFlight = { now: 0, peak: 0 };
    const client = {
      async send(command: PutObjectCommand) {
        inFlight.now++;
        inFlight.peak = Math.max(inFlight.peak, inFlight.now);
        await new Promise((resolve) => setTimeout(resolve, 2));
        inFlight.now--;
        uploads.push(command.input.Body as string);
        return {};
      },
    } as unknown as S3Client;
    const maxPendingBytes = 16 * 1024;
    // About 60 times the bound: were each full batch to wait for its 1 s delay, the test would time out.
    // Uploading when decoding waits leaves only the last, partial batch to its delay.
    const { deadLetter, seen } = watched(s3DeadLetter(client, 's3://bucket/dl/', { maxPendingBytes }));
    const pipeline = pipelineWith([memorySink('search', 'ecs')], deadLetter as never);
    const lines = 3_000;
    const outcome = await processObject(chunks(unknownVersionFlows(lines)), pipeline, {
      origin: { bucket: 'b', key: 'AWSLogs/1/vpcflowlogs/us-east-1/y.log' },
      logType: 'vpcflow',
    });
    await deadLetter.close();
    expect(outcome).toMatchObject({ status: 'delivered', deadLettered: lines });
    expect(seen.peak).toBeLessThanOrEqual(maxPendingBytes + seen.largestEntry);
    expect(inFlight.peak).toBeLessThanOrEqual(2);
    const records = uploads.flatMap((u) =>
      u
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { origin: { record: number } }).origin.record),
    );
    expect(records.sort((a, b) => a - b)).toEqual(Array.from({ length: lines }, (_, i) => i + 2));
  });
});
