import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../../src/samples/index.js';
import { decodeAll, records, rejects } from './helpers.js';

const rec = (i: number, extra: Record<string, unknown> = {}) => ({
  eventVersion: '1.09',
  eventID: `id-${i}`,
  eventName: 'GetObject',
  eventTime: '2026-11-28T10:00:00Z',
  ...extra,
});

describe('CloudTrail decoding', () => {
  it('splits a {"Records":[...]} object into records, in order, at any chunk boundary', async () => {
    const text = JSON.stringify({
      Records: [rec(1), rec(2, { s: 'a "quoted" \\ back\\slash }{][' }), rec(3)],
    });
    for (const size of [1, 2, 3, 7, 64, 100_000]) {
      const got = records(await decodeAll(text, { chunkSize: size, logType: 'cloudtrail' }));
      expect(got.map((r) => (r.logType === 'cloudtrail' ? r.event.eventID : ''))).toEqual([
        'id-1',
        'id-2',
        'id-3',
      ]);
      expect(got.map((r) => r.origin.record)).toEqual([1, 2, 3]);
    }
  });

  it('accepts a bare array, NDJSON, pretty-printed JSON and a BOM', async () => {
    const arr = await decodeAll(JSON.stringify([rec(1), rec(2)]), { logType: 'cloudtrail' });
    expect(records(arr)).toHaveLength(2);
    const nd = await decodeAll(`${JSON.stringify(rec(1))}\n\n${JSON.stringify(rec(2))}\n`, {
      logType: 'cloudtrail',
    });
    expect(records(nd)).toHaveLength(2);
    const pretty = await decodeAll(`\uFEFF${JSON.stringify({ Records: [rec(1), rec(2)] }, null, 2)}`, {
      logType: 'cloudtrail',
    });
    expect(records(pretty)).toHaveLength(2);
  });

  it('keeps unicode intact across chunk boundaries', async () => {
    const name = 'Zoë 山田太郎 🚀';
    const got = records(
      await decodeAll(cloudTrailObjectText([rec(1, { userName: name })]), { chunkSize: 1 }),
    );
    expect(got[0]?.logType === 'cloudtrail' && got[0].event.userName).toBe(name);
  });

  it('decodes gzip by magic bytes whatever the key says', async () => {
    const body = gzipSync(cloudTrailObjectText([rec(1), rec(2)]));
    const got = await decodeAll(body, {
      origin: { key: 'AWSLogs/1/CloudTrail/us-east-1/x.json' },
      chunkSize: 50,
    });
    expect(records(got)).toHaveLength(2);
  });

  it('rejects bad JSON in one NDJSON record, naming it, and keeps the records after it', async () => {
    const text = [JSON.stringify(rec(1)), '{"eventName": broken}', JSON.stringify(rec(3))].join('\n');
    const got = await decodeAll(text, { logType: 'cloudtrail' });
    expect(records(got).map((r) => r.origin.record)).toEqual([1, 3]);
    const [bad] = rejects(got);
    expect(bad).toMatchObject({ code: 'DECODE_INVALID_JSON', origin: { key: 'test-object', record: 2 } });
    expect(bad?.reason).toMatch(/record 2/);
    expect(bad?.raw).toContain('broken');
  });

  it('resynchronises after a record cut in the middle of a string', async () => {
    const text = [JSON.stringify(rec(1)), '{"eventName":"cut', JSON.stringify(rec(3))].join('\n');
    const got = await decodeAll(text, { logType: 'cloudtrail' });
    expect(records(got).map((r) => (r.logType === 'cloudtrail' ? r.event.eventID : ''))).toEqual([
      'id-1',
      'id-3',
    ]);
    expect(rejects(got)[0]).toMatchObject({ code: 'DECODE_INVALID_JSON', origin: { record: 2 } });
  });

  it('inside an array of records, a raw line break in a string invalidates that record only', async () => {
    const wrapped = '{"Records":[{"eventID":"1","a":"x\ny"},{"eventID":"2"},{"eventID":"3"}]}';
    const pretty =
      '{"Records":[\n {\n  "eventID": "1",\n  "a": "x\ny",\n  "b": 1\n },\n {"eventID":"2"},\n {"eventID":"3"}\n]}\n';
    const bare = '[{"eventID":"1","a":"x\ny"},\n{"eventID":"2"},\n{"eventID":"3"}]';
    // Pretty-printed objects one after another: line breaks are layout there too.
    const objects = '{\n "eventID": "1",\n "a": "x\ny"\n}\n{\n "eventID": "2"\n}\n{\n "eventID": "3"\n}\n';
    for (const text of [wrapped, pretty, bare, objects]) {
      for (const chunkSize of [1, 7, 1000]) {
        const got = await decodeAll(text, { logType: 'cloudtrail', chunkSize });
        expect(ids(got)).toEqual(['2', '3']);
        expect(records(got).map((r) => r.origin.record)).toEqual([2, 3]);
        expect(rejects(got)).toEqual([
          expect.objectContaining({
            code: 'DECODE_INVALID_JSON',
            origin: expect.objectContaining({ record: 1 }),
          }),
        ]);
        expect(rejects(got)[0]?.reason).toMatch(/^record 1: invalid JSON \(.*control character/i);
      }
    }
  });

  it('in NDJSON, a line cut outside a string (or after a backslash) ends there and the next lines decode', async () => {
    const first = JSON.stringify(rec(1));
    for (const cut of ['{"eventID":"1","x":{', '{"eventID":"1","a":"x\\', '{"eventID":"1","a":[1,']) {
      const text = `${first}\n${cut}\n{"eventID":"2"}\r\n{"eventID":"3"}\n`;
      for (const chunkSize of [1, 7, 1000]) {
        const got = await decodeAll(text, { logType: 'cloudtrail', chunkSize });
        expect(ids(got)).toEqual(['id-1', '2', '3']);
        expect(records(got).map((r) => r.origin.record)).toEqual([1, 3, 4]);
        expect(rejects(got)).toEqual([
          expect.objectContaining({
            code: 'DECODE_INVALID_JSON',
            origin: expect.objectContaining({ record: 2 }),
            raw: cut,
          }),
        ]);
      }
    }
  });

  it('still splits pretty-printed and concatenated objects by nesting, not by line', async () => {
    const [a, b, c] = [rec(1), rec(2), rec(3)];
    const texts: [string, number][] = [
      [JSON.stringify(a, null, 2), 1],
      [`${JSON.stringify(a, null, 2)}\n${JSON.stringify(b, null, 2)}\n`, 2],
      [`${JSON.stringify(a)}${JSON.stringify(b, null, 2)}`, 2],
      [`${JSON.stringify(a)} ${JSON.stringify(b)}`, 2],
      [`${JSON.stringify(a, null, 2)}\n${JSON.stringify(b)}\n${JSON.stringify(c, null, 1)}`, 3],
    ];
    for (const [text, count] of texts) {
      for (const chunkSize of [1, 7, 1000]) {
        const got = await decodeAll(text, { logType: 'cloudtrail', chunkSize });
        expect(rejects(got)).toEqual([]);
        expect(ids(got)).toEqual(['id-1', 'id-2', 'id-3'].slice(0, count));
      }
    }
  });

  it('reports a plain object cut inside its Records array as truncated, after its complete records', async () => {
    const cases: [string, number][] = [
      ['{"Records":[{"eventID":"1"},{"eventID":"2"}', 2],
      ['{"Records":[{"eventID":"1"},', 1],
      ['{"Records":[', 0],
      ['[{"eventID":"1"}', 1],
      ['{"Records":[{"eventID":"1"}],"x":"abc', 1],
      ['{"Records":[{"eventID":"1"}],"x":{"y":1}', 1],
    ];
    for (const [text, complete] of cases) {
      const got = await decodeAll(text, { logType: 'cloudtrail' });
      expect(records(got)).toHaveLength(complete);
      expect(got[got.length - 1]).toEqual({
        kind: 'rejected',
        rejected: expect.objectContaining({
          code: 'DECODE_TRUNCATED',
          origin: expect.objectContaining({ record: complete + 1 }),
          reason: expect.stringMatching(new RegExp(`^after record ${complete}: .*truncated`)),
        }),
      });
    }
    const inRecord = await decodeAll('{"Records":[{"eventID":"1"},{"eventID":"2","a":', {
      logType: 'cloudtrail',
    });
    expect(rejects(inRecord)).toEqual([
      expect.objectContaining({ code: 'DECODE_TRUNCATED', origin: expect.objectContaining({ record: 2 }) }),
    ]);
  });

  it('rejects a record that is not an object with DECODE_NOT_OBJECT', async () => {
    const got = await decodeAll(JSON.stringify({ Records: [rec(1), 'text', 42, null, rec(5)] }));
    expect(records(got).map((r) => r.origin.record)).toEqual([1, 5]);
    expect(rejects(got).map((r) => [r.code, r.origin.record])).toEqual([
      ['DECODE_NOT_OBJECT', 2],
      ['DECODE_NOT_OBJECT', 3],
      ['DECODE_NOT_OBJECT', 4],
    ]);
  });

  it('yields the records before a gzip truncation, then DECODE_TRUNCATED', async () => {
    const all = generateCloudTrailRecords({ seed: 9, count: 400 });
    const gz = gzipSync(cloudTrailObjectText(all));
    const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
    const got = await decodeAll(cut, { origin: { key: 'AWSLogs/1/CloudTrail/x.json.gz' }, chunkSize: 4096 });
    const ok = records(got);
    expect(ok.length).toBeGreaterThan(50);
    expect(ok.length).toBeLessThan(400);
    expect(ok.map((r) => r.origin.record)).toEqual(ok.map((_, i) => i + 1));
    const last = got[got.length - 1];
    expect(last?.kind).toBe('rejected');
    expect(last?.kind === 'rejected' && last.rejected).toMatchObject({
      code: 'DECODE_TRUNCATED',
      origin: { record: ok.length + 1 },
    });
  });

  it('handles records of several MB and rejects one above the record limit without losing the others', async () => {
    const huge = 'x'.repeat(3 * 1024 * 1024);
    const text = cloudTrailObjectText([rec(1, { requestParameters: { policy: huge } }), rec(2)]);
    const got = await decodeAll(text, { chunkSize: 64 * 1024 });
    expect(records(got)).toHaveLength(2);
    const limited = await decodeAll(text, { chunkSize: 64 * 1024, limits: { maxRecordBytes: 1024 * 1024 } });
    expect(records(limited).map((r) => r.origin.record)).toEqual([2]);
    expect(rejects(limited)[0]).toMatchObject({ code: 'DECODE_RECORD_TOO_LARGE', origin: { record: 1 } });
  });

  it('skips digest files (by key and by content) and empty objects', async () => {
    const digest = JSON.stringify({
      awsAccountId: '1',
      digestStartTime: 'a',
      digestEndTime: 'b',
      logFiles: [],
    });
    const byKey = await decodeAll(digest, {
      origin: { key: 'AWSLogs/1/CloudTrail-Digest/us-east-1/d.json.gz' },
    });
    expect(byKey).toEqual([
      { kind: 'skipped', reason: 'digest', origin: expect.objectContaining({ record: 0 }) },
    ]);
    const byContent = await decodeAll(digest, { origin: { key: 'local.json' }, logType: 'cloudtrail' });
    expect(byContent.map((r) => r.kind === 'skipped' && r.reason)).toEqual(['digest']);
    expect((await decodeAll('', { logType: 'cloudtrail' }))[0]).toMatchObject({
      kind: 'skipped',
      reason: 'empty',
    });
    const emptyRecords = await decodeAll('{"Records":[]}', { logType: 'cloudtrail' });
    expect(emptyRecords).toEqual([expect.objectContaining({ kind: 'skipped', reason: 'empty' })]);
    expect((await decodeAll('hello world', { origin: { key: 'x.txt' } }))[0]).toMatchObject({
      kind: 'skipped',
      reason: 'unknown-type',
    });
  });
});

function ids(results: Awaited<ReturnType<typeof decodeAll>>): unknown[] {
  return records(results).map((r) => (r.logType === 'cloudtrail' ? r.event.eventID : undefined));
}
