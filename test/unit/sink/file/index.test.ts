import { mkdirSync, mkdtempSync, readFileSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type HecEvent, hecEventJson } from '../../../../src/map/cim/index.js';
import { createFileSink } from '../../../../src/sink/file/index.js';
import type { SinkRecord } from '../../../../src/types.js';

/** A record whose delivery remembers how it was settled. */
function record(n: number) {
  const settled: string[] = [];
  const r: SinkRecord = {
    id: String(n),
    logType: 'vpcflow',
    doc: { n },
    origin: { key: 'k', record: n },
    delivery: {
      ack: () => settled.push('ack'),
      reject: () => settled.push('reject'),
      fail: (e) => settled.push(`fail ${(e as NodeJS.ErrnoException).code}`),
    },
  };
  return { r, settled };
}

describe('createFileSink', () => {
  it('appends one line per record and acknowledges it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-file-'));
    const sink = createFileSink({ dir, schema: 'ecs' });
    const a = record(1);
    const b = record(2);
    await sink.write(a.r);
    await sink.write(b.r);
    await sink.close();
    expect([a.settled, b.settled]).toEqual([['ack'], ['ack']]);
    expect(readFileSync(join(dir, 'vpcflow.ecs.ndjson'), 'utf8')).toBe('{"n":1}\n{"n":2}\n');
    await expect(sink.check!()).resolves.toBeUndefined();
  });

  it('writes HEC envelopes as HEC receives them: the record spliced in, no sink-only keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-file-'));
    const sink = createFileSink({ dir, schema: 'cim' });
    const { r } = record(1);
    const envelope: HecEvent = {
      time: 1.5,
      source: 's3://b/k',
      sourcetype: 'aws:cloudwatchlogs:vpcflow',
      event: '2 123456789012 eni-1 - - - - - - - 1 2 - NODATA',
      fields: { action: 'unknown' },
    };
    await sink.write({ ...r, doc: envelope });
    await sink.write({
      ...r,
      logType: 'cloudtrail',
      doc: { ...envelope, event: { a: 1 }, eventJson: '{"a":1}' },
    });
    await sink.close();
    expect(readFileSync(join(dir, 'vpcflow.cim.ndjson'), 'utf8')).toBe(`${hecEventJson(envelope)}\n`);
    const ct = readFileSync(join(dir, 'cloudtrail.cim.ndjson'), 'utf8');
    expect(JSON.parse(ct)).toEqual({
      time: 1.5,
      source: 's3://b/k',
      sourcetype: 'aws:cloudwatchlogs:vpcflow',
      event: { a: 1 },
      fields: { action: 'unknown' },
    });
  });

  it('fails the records of a stream that cannot be written instead of crashing, reports it, and recovers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-file-'));
    mkdirSync(join(dir, 'vpcflow.ecs.ndjson')); // a directory in the file's place: EISDIR
    const sink = createFileSink({ dir, schema: 'ecs' });
    const a = record(1);
    const b = record(2);
    await sink.write(a.r);
    await sink.write(b.r);
    await sink.flush();
    expect([a.settled, b.settled]).toEqual([['fail EISDIR'], ['fail EISDIR']]);
    await expect(sink.check!()).rejects.toMatchObject({ code: 'FILE_SINK_WRITE_FAILED' });

    // The failed stream is dropped: once the path is usable, the next record opens the file again.
    rmdirSync(join(dir, 'vpcflow.ecs.ndjson'));
    const c = record(3);
    await sink.write(c.r);
    await sink.flush();
    expect(c.settled).toEqual(['ack']);
    await expect(sink.check!()).resolves.toBeUndefined();
    await sink.close();
    expect(readFileSync(join(dir, 'vpcflow.ecs.ndjson'), 'utf8')).toBe('{"n":3}\n');
  });

  it('closes even when a stream failed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-file-'));
    mkdirSync(join(dir, 'vpcflow.ecs.ndjson'));
    const sink = createFileSink({ dir, schema: 'ecs' });
    const a = record(1);
    await sink.write(a.r);
    await sink.close();
    expect(a.settled).toEqual(['fail EISDIR']);
  });
});
