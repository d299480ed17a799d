import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Alert, createEvaluator, loadRules, type Rule } from '../../../src/detection/index.js';
import { evaluateObject } from '../../../src/detection/stream.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../../src/samples/index.js';
import type { RejectedRecord } from '../../../src/types.js';
import { chunks } from '../decode/helpers.js';
import { failedConsoleLoginDoc as failedLoginDoc } from '../support/console-login.js';

const rulesDir = fileURLToPath(new URL('../../../rules/', import.meta.url));

describe('evaluateObject', () => {
  let rules: Rule[];
  beforeAll(async () => {
    rules = await loadRules(rulesDir);
  });

  async function evaluate(
    body: AsyncIterable<Uint8Array>,
    options: Pick<Parameters<typeof evaluateObject>[2], 'key' | 'type' | 'maxRecordBytes'>,
  ) {
    const alerts: Alert[] = [];
    const rejected: RejectedRecord[] = [];
    const result = await evaluateObject(createEvaluator(rules), body, {
      ...options,
      onAlert: (a) => alerts.push(a),
      onRejected: (r) => rejected.push(r),
    });
    return { result, alerts, rejected };
  }

  it('reports a record the ECS mapper refuses and still evaluates the records after it', async () => {
    const records = generateCloudTrailRecords({ seed: 4242, count: 5 }) as Record<string, unknown>[];
    records[1] = { ...records[1], eventTime: 'not a time' };
    const { result, rejected } = await evaluate(Readable.from([cloudTrailObjectText(records)]), {
      key: 'ct.json',
      type: 'cloudtrail',
    });
    expect(result).toMatchObject({ records: 4, rejected: 1 });
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({
      code: 'MAP_FAILED',
      field: 'eventTime',
      origin: { key: 'ct.json', record: 2 },
      reason: expect.stringContaining('"not a time" is not a timestamp'),
    });
    expect(rejected[0]!.raw).toContain('not a time');
  });

  it('hands every alert to onAlert and only counts it', async () => {
    const text = [1, 2, 3].map((n) => `${JSON.stringify(failedLoginDoc(n))}\n`).join('');
    const { result, alerts } = await evaluate(chunks(text, 1000), { key: 'ecs.ndjson', type: 'ecs' });
    expect(alerts.length).toBeGreaterThanOrEqual(3);
    expect(result).toEqual({ records: 3, alerts: alerts.length, rejected: 0 });
  });

  it('reads an ECS file that starts with a byte order mark, however the chunks split it', async () => {
    const text = `\ufeff${JSON.stringify(failedLoginDoc(1))}\n\n${JSON.stringify(failedLoginDoc(2))}`;
    for (const chunkSize of [text.length * 2, 1]) {
      const { result } = await evaluate(chunks(text, chunkSize), { key: 'bom.ndjson', type: 'ecs' });
      expect(result, `chunks of ${chunkSize}`).toMatchObject({ records: 2, rejected: 0 });
    }
  });

  it('rejects an ECS line longer than the record limit, naming its line, and evaluates the lines after it', async () => {
    const limit = 2048;
    const line = (n: number, bytes: number) => {
      const doc = JSON.stringify({ ...failedLoginDoc(n), pad: '' });
      return `${doc.slice(0, -2)}${'x'.repeat(bytes - doc.length)}"}`;
    };
    expect(Buffer.byteLength(line(1, limit))).toBe(limit);
    const lines = [
      line(1, 1200),
      line(2, limit + 1), // valid JSON, one byte too long
      line(3, limit), // exactly at the limit
      line(4, 50 * limit),
      line(5, 1200),
      line(6, 3 * limit), // the last line, without a newline
    ];
    const text = lines.join('\n');
    // Whole lines within one chunk, and lines carried across many.
    for (const chunkSize of [text.length, 100]) {
      const { result, rejected } = await evaluate(chunks(text, chunkSize), {
        key: 'big.ndjson',
        type: 'ecs',
        maxRecordBytes: limit,
      });
      expect(result.records, `chunks of ${chunkSize}`).toBe(3);
      expect(
        rejected.map((r) => [r.origin, r.code, r.reason]),
        `chunks of ${chunkSize}`,
      ).toEqual(
        [2, 4, 6].map((n) => [
          { key: 'big.ndjson', record: n },
          'DECODE_RECORD_TOO_LARGE',
          `line ${n}: longer than the 2048-byte record limit`,
        ]),
      );
      for (const r of rejected) expect(r.raw).toBe(lines[r.origin.record - 1]!.slice(0, limit));
    }
  });
});
