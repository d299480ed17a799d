import { Readable } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { type DecodeResult, decodeObject } from '../../../src/decode/index.js';
import {
  cloudTrailObjectText,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../../src/samples/index.js';
import { chunks, decodeAll, decodeSlowly, records, rejects } from './helpers.js';

describe('decodeObject', () => {
  it('keeps every record decompressed before a gzip truncation and names the record really cut', async () => {
    // Records that compress well: one input chunk then inflates to many output chunks, which wait in the
    // decompressor while the consumer is busy.
    const all = Array.from({ length: 3000 }, (_, i) => ({
      eventVersion: '1.08',
      eventID: String(i + 1),
      pad: 'x'.repeat(50 + ((i * 7919) % 300)),
    }));
    const gz = gzipSync(cloudTrailObjectText(all));
    for (const share of [0.35, 0.65, 0.9]) {
      const cut = gz.subarray(0, Math.floor(gz.length * share));
      // The records complete in what can be decompressed: `{"Records":[` then records joined by commas.
      const prefix = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH }).toString();
      let complete = 0;
      for (let end = '{"Records":['.length; complete < all.length; complete++) {
        end += JSON.stringify(all[complete]).length;
        if (end > prefix.length) break;
        end++;
      }
      const got = await decodeSlowly(cut, { origin: { key: 'AWSLogs/1/CloudTrail/x.json.gz' } });
      expect(records(got)).toHaveLength(complete);
      expect(rejects(got)).toEqual([
        expect.objectContaining({
          code: 'DECODE_TRUNCATED',
          origin: expect.objectContaining({ record: complete + 1 }),
        }),
      ]);
    }
  });

  it('keeps every flow line decompressed before a gzip truncation and names the line really cut', async () => {
    const lines = generateFlowLines({ seed: 11, count: 5000, version: 5 });
    const gz = gzipSync(`${lines.join('\n')}\n`);
    for (const share of [0.35, 0.65, 0.9]) {
      const cut = gz.subarray(0, Math.floor(gz.length * share));
      const prefix = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH }).toString();
      const complete = prefix.split('\n').length - 1; // complete lines, the header among them
      const got = await decodeSlowly(cut, { logType: 'vpcflow' });
      expect(records(got)).toHaveLength(complete - 1);
      expect(rejects(got)).toEqual([
        expect.objectContaining({
          code: 'DECODE_TRUNCATED',
          origin: expect.objectContaining({ record: complete + 1 }),
        }),
      ]);
    }
  });

  it('closes the source and the decompressor when the consumer stops early', async () => {
    const text = cloudTrailObjectText(generateCloudTrailRecords({ seed: 2, count: 200 }));
    for (const body of [Buffer.from(text), gzipSync(text)]) {
      const stream = Readable.from(chunkList(body, 1000));
      for await (const r of decodeObject(stream, { origin: { key: 'x' }, logType: 'cloudtrail' })) {
        if (r.kind === 'record' && r.record.origin.record === 3) break;
      }
      await tick();
      expect(stream.destroyed).toBe(true);

      let closed = false;
      async function* source(): AsyncGenerator<Uint8Array> {
        try {
          yield* chunkList(body, 1000);
        } finally {
          closed = true;
        }
      }
      for await (const r of decodeObject(source(), { origin: { key: 'x' }, logType: 'cloudtrail' })) {
        if (r.kind === 'record' && r.record.origin.record === 3) break;
      }
      await tick();
      expect(closed).toBe(true);
    }
  });

  it('closes the source of an object it skips without reading it all (a digest by its key)', async () => {
    // Hashes do not compress: the gzip object is larger than all the buffers on its way together.
    let seed = 1;
    const hash = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed.toString(16);
    };
    const logFiles = Array.from({ length: 20_000 }, () => ({ hashValue: `${hash()}${hash()}${hash()}` }));
    const digest = gzipSync(JSON.stringify({ digestStartTime: 'a', digestEndTime: 'b', logFiles }));
    expect(digest.length).toBeGreaterThan(200_000);
    const stream = Readable.from(chunkList(digest, 1000));
    const got = [];
    for await (const r of decodeObject(stream, {
      origin: { key: 'AWSLogs/1/CloudTrail-Digest/d.json.gz' },
    })) {
      got.push(r);
    }
    await tick();
    expect(got).toEqual([expect.objectContaining({ kind: 'skipped', reason: 'digest' })]);
    expect(stream.destroyed).toBe(true);
  });

  it('hands out the records of a large chunk as it parses them, and decodes them as from small chunks', async () => {
    // 300 records (about 300 KB) in one chunk, as a decompressor or a plain S3 body may give them: the
    // first record comes before the rest are parsed (parsed records held for the whole chunk outlived
    // V8's young generation), and the records, their order and numbers are those of 7-byte chunks.
    const text = cloudTrailObjectText(generateCloudTrailRecords({ seed: 5, count: 300 }));
    expect(text.length).toBeGreaterThan(200_000);
    const origin = { key: 'AWSLogs/1/CloudTrail/us-east-1/2026/11/29/x.json' };
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const results = decodeObject(chunks(text, text.length), { origin });
      const first = await results.next();
      expect(first.value).toEqual(expect.objectContaining({ kind: 'record' }));
      expect(parse.mock.calls.length).toBeLessThan(60);
      const rest: DecodeResult[] = [first.value as DecodeResult];
      for await (const r of results) rest.push(r);
      expect(rest).toEqual(await decodeAll(text, { origin }));
      expect(records(rest).map((r) => r.origin.record)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    } finally {
      parse.mockRestore();
    }
    const flows = `${generateFlowLines({ seed: 5, count: 4000, version: 5 }).join('\n')}\n`;
    expect(flows.length).toBeGreaterThan(200_000);
    const flowOrigin = { key: 'AWSLogs/1/vpcflowlogs/us-east-1/2026/11/29/x.log' };
    const whole = await decodeAll(flows, { origin: flowOrigin, chunkSize: flows.length });
    expect(records(whole)).toHaveLength(4000);
    expect(whole).toEqual(await decodeAll(flows, { origin: flowOrigin }));
  });

  it('skips blank and BOM-only objects as empty, like 0 bytes, when the type is not known', async () => {
    for (const blank of [' \n\t\r\n', '\uFEFF', '\uFEFF\r\n', ' '.repeat(5000)]) {
      for (const body of [blank, gzipSync(blank)]) {
        expect(await decodeAll(body, { origin: { key: 'x.txt' } })).toEqual([
          expect.objectContaining({ kind: 'skipped', reason: 'empty' }),
        ]);
      }
    }
    expect(await decodeAll(`${' '.repeat(5000)}hello`, { origin: { key: 'x.txt' } })).toEqual([
      expect.objectContaining({ kind: 'skipped', reason: 'unknown-type' }),
    ]);
  });
});

function* chunkList(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
