import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { decodeObject } from '../../../src/decode/index.js';
import { flowFieldsForVersion, generateFlowLines } from '../../../src/samples/index.js';
import { decodeAll, records, rejects } from './helpers.js';

const V2 =
  '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

function flows(results: Awaited<ReturnType<typeof decodeAll>>) {
  return records(results).flatMap((r) => (r.logType === 'vpcflow' ? [r] : []));
}

describe('VPC flow decoding', () => {
  it('maps by the header line, in any field order', async () => {
    const text = 'srcaddr version dstport action log-status\n10.0.0.1 5 443 REJECT OK\n';
    const [rec] = flows(await decodeAll(text, { logType: 'vpcflow' }));
    expect(rec?.fields).toEqual({
      srcaddr: '10.0.0.1',
      version: '5',
      dstport: '443',
      action: 'REJECT',
      'log-status': 'OK',
    });
    expect(rec?.origin.record).toBe(2);
    expect(rec?.line).toBe('10.0.0.1 5 443 REJECT OK');
  });

  it('keeps every field of the layout as a key, absent ones (`-`) undefined, and records independent', async () => {
    const text = 'version srcaddr dstaddr action\n5 10.0.0.1 - ACCEPT\n5 - 10.0.0.9 REJECT\n';
    const [first, second] = flows(await decodeAll(text, { logType: 'vpcflow' }));
    expect(Object.keys(first?.fields ?? {})).toEqual(['version', 'srcaddr', 'dstaddr', 'action']);
    expect(first?.fields).toStrictEqual({
      version: '5',
      srcaddr: '10.0.0.1',
      dstaddr: undefined,
      action: 'ACCEPT',
    });
    expect(second?.fields).toStrictEqual({
      version: '5',
      srcaddr: undefined,
      dstaddr: '10.0.0.9',
      action: 'REJECT',
    });
  });

  it('gives the same records, line numbers and errors at any chunk boundary (CRLF, blank and JSON-wrapped lines)', async () => {
    const lines = generateFlowLines({ seed: 3, count: 40, version: 5, idleShare: 0.2 });
    const text = [
      lines[0],
      `${lines[1]}\r`,
      '',
      `{"message":${JSON.stringify(lines[2])}}`,
      '2 1 eni-1 too few',
      ...lines.slice(3),
      '',
    ].join('\n');
    const shape = (results: Awaited<ReturnType<typeof decodeAll>>) =>
      results.map((r) =>
        r.kind === 'record' && r.record.logType === 'vpcflow'
          ? [r.record.origin.record, r.record.line, r.record.fields]
          : r.kind === 'rejected'
            ? [r.rejected.origin.record, r.rejected.code]
            : [r.kind],
      );
    const whole = shape(await decodeAll(text, { logType: 'vpcflow', chunkSize: text.length }));
    // lines[0] is the header line.
    expect(whole.filter((r) => r.length === 3)).toHaveLength(lines.length - 1);
    expect(whole[0]).toEqual([2, lines[1], expect.any(Object)]);
    expect(whole[1]).toEqual([4, lines[2], expect.any(Object)]);
    expect(whole[2]).toEqual([5, 'DECODE_FLOW_FIELD_COUNT']);
    for (const size of [1, 7, 64, 1000]) {
      expect(shape(await decodeAll(text, { logType: 'vpcflow', chunkSize: size }))).toEqual(whole);
    }
  });

  it('decodes every version 2-8 with its full field list, and custom orders', async () => {
    for (const version of [2, 3, 4, 5, 6, 7, 8]) {
      const names = flowFieldsForVersion(version);
      const lines = generateFlowLines({ seed: version, count: 50, version, idleShare: 0 });
      const got = flows(
        await decodeAll(`${lines.join('\n')}\n`, { origin: { key: 'AWSLogs/1/vpcflowlogs/x.log' } }),
      );
      expect(got).toHaveLength(50);
      for (const r of got) {
        for (const key of Object.keys(r.fields)) expect(names).toContain(key);
        expect(r.fields.version).toBe(String(version));
      }
    }
    const custom = [
      'dstport',
      'srcaddr',
      'action',
      'pkt-srcaddr',
      'flow-direction',
      'start',
      'end',
      'log-status',
    ];
    const got = flows(
      await decodeAll(generateFlowLines({ seed: 1, count: 10, fields: custom, idleShare: 0 }).join('\n')),
    );
    expect(got).toHaveLength(10);
    expect(Object.keys(got[0]!.fields).sort()).toEqual([...custom].sort());
  });

  it('falls back to the default v2 layout and Elastic token-count layouts without a header', async () => {
    const [v2] = flows(await decodeAll(`${V2}\n`, { logType: 'vpcflow' }));
    expect(v2?.fields).toMatchObject({
      srcaddr: '172.31.16.139',
      dstport: '22',
      protocol: '6',
      'log-status': 'OK',
    });
    const lines = generateFlowLines({ seed: 3, count: 3, version: 5, header: false, idleShare: 0 });
    const v5 = flows(await decodeAll(lines.join('\n'), { logType: 'vpcflow' }));
    expect(v5[0]?.fields['flow-direction']).toMatch(/ingress|egress/);
  });

  it('drops "-" and keeps NODATA/SKIPDATA records with their status', async () => {
    const text = `${V2}\n2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA\n2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - SKIPDATA\n`;
    const got = flows(await decodeAll(text, { logType: 'vpcflow' }));
    expect(got[1]?.fields).toEqual({
      version: '2',
      'account-id': '123456789010',
      'interface-id': 'eni-1',
      start: '1431280876',
      end: '1431280934',
      'log-status': 'NODATA',
    });
    expect(got[2]?.fields['log-status']).toBe('SKIPDATA');
  });

  it('unwraps {"message": "..."} lines and handles CRLF', async () => {
    const text = `${JSON.stringify({ message: V2 })}\r\n${V2}\r\n`;
    const got = flows(await decodeAll(text, { logType: 'vpcflow' }));
    expect(got).toHaveLength(2);
    expect(got[0]?.fields).toEqual(got[1]?.fields);
  });

  it('rejects a line with the wrong number of fields, naming the line, and keeps the others', async () => {
    const text = `version srcaddr dstaddr\n2 10.0.0.1 10.0.0.2\n2 10.0.0.1\n2 10.0.0.3 10.0.0.4\n`;
    const got = await decodeAll(text, { logType: 'vpcflow' });
    expect(flows(got).map((r) => r.origin.record)).toEqual([2, 4]);
    const [bad] = rejects(got);
    expect(bad).toMatchObject({ code: 'DECODE_FLOW_FIELD_COUNT', origin: { record: 3 }, raw: '2 10.0.0.1' });
    expect(bad?.reason).toMatch(/line 3: 2 fields, the header names 3/);
    const headerless = rejects(await decodeAll('1 2 3 4 5\n', { logType: 'vpcflow' }));
    expect(headerless[0]).toMatchObject({ code: 'DECODE_FLOW_FIELD_COUNT', origin: { record: 1 } });
  });

  it('rejects an unknown version', async () => {
    const got = rejects(await decodeAll(`${V2.replace(/^2 /, '12 ')}\n`, { logType: 'vpcflow' }));
    expect(got[0]).toMatchObject({ code: 'DECODE_FLOW_UNKNOWN_VERSION', origin: { record: 1 } });
  });

  it('accepts only a plain decimal version: not 0x5, 2.0, 02, +5 or 5e0', async () => {
    const odd = ['0x5', '2.0', '02', '+5', '5e0', '1', '9'];
    const text = [...odd.map((v) => V2.replace(/^2 /, `${v} `)), V2.replace(/^2 /, '8 ')].join('\n');
    const got = await decodeAll(text, { logType: 'vpcflow' });
    expect(rejects(got).map((r) => [r.origin.record, r.code])).toEqual(
      odd.map((_, i) => [i + 1, 'DECODE_FLOW_UNKNOWN_VERSION']),
    );
    expect(flows(got).map((r) => r.origin.record)).toEqual([odd.length + 1]);
  });

  it('applies the line size limit whatever the chunking (a line inside a chunk too)', async () => {
    const header = 'version account-id interface-id log-status';
    const long = `2 123456789012 eni-${'z'.repeat(3000)} OK`;
    // 400 three-byte characters: 400 UTF-16 units but 1,200 bytes, over the 1,000-byte limit.
    const wide = `2 123456789012 eni-${'€'.repeat(400)} OK`;
    const fits = `2 123456789012 eni-${'€'.repeat(300)} OK`;
    const text = `${header}\n${long}\n2 123456789012 eni-1 OK\n${wide}\n${fits}\n`;
    for (const chunkSize of [100, 999, 100_000]) {
      const got = await decodeAll(text, { logType: 'vpcflow', chunkSize, limits: { maxRecordBytes: 1000 } });
      expect(rejects(got).map((r) => [r.origin.record, r.code])).toEqual([
        [2, 'DECODE_RECORD_TOO_LARGE'],
        [4, 'DECODE_RECORD_TOO_LARGE'],
      ]);
      expect(rejects(got)[0]?.reason).toBe('line 2: longer than the 1000-byte record limit');
      expect(flows(got).map((r) => r.origin.record)).toEqual([3, 5]);
    }
  });

  it('keeps lines decoded before a gzip truncation and reports the cut line', async () => {
    const lines = generateFlowLines({ seed: 5, count: 3000, version: 5 });
    const gz = gzipSync(`${lines.join('\n')}\n`);
    const got = await decodeAll(gz.subarray(0, gz.length >> 1), { logType: 'vpcflow', chunkSize: 1000 });
    const ok = flows(got);
    expect(ok.length).toBeGreaterThan(100);
    const last = got[got.length - 1];
    expect(last?.kind === 'rejected' && last.rejected.code).toBe('DECODE_TRUNCATED');
  });

  it('reads Parquet delivery (underscored column names) and bounds its size', async () => {
    const rows = 25;
    const file = parquetWriteBuffer({
      columnData: [
        { name: 'version', data: Array.from({ length: rows }, () => 5), type: 'INT32' },
        { name: 'account_id', data: Array.from({ length: rows }, () => '123456789012'), type: 'STRING' },
        { name: 'srcaddr', data: Array.from({ length: rows }, (_, i) => `10.0.0.${i}`), type: 'STRING' },
        {
          name: 'dstport',
          data: Array.from({ length: rows }, (_, i) => (i === 3 ? null : 443)),
          type: 'INT32',
        },
        { name: 'log_status', data: Array.from({ length: rows }, () => 'OK'), type: 'STRING' },
      ],
    });
    const got = flows(
      await decodeAll(new Uint8Array(file), { origin: { key: 'x.parquet' }, chunkSize: 100 }),
    );
    expect(got).toHaveLength(rows);
    expect(got[0]?.fields).toEqual({
      version: '5',
      'account-id': '123456789012',
      srcaddr: '10.0.0.0',
      dstport: '443',
      'log-status': 'OK',
    });
    expect(got[3]?.fields.dstport).toBeUndefined();
    expect(got[3]?.origin.record).toBe(4);
    const tooBig = await decodeAll(new Uint8Array(file), { limits: { maxParquetBytes: 100 } });
    expect(rejects(tooBig)[0]?.code).toBe('DECODE_PARQUET_TOO_LARGE');
  });

  it('holds one Parquet object at a time, however many are decoded at once', async () => {
    const file = new Uint8Array(
      parquetWriteBuffer({
        columnData: [
          { name: 'version', data: [2, 2, 2], type: 'INT32' },
          { name: 'log_status', data: ['OK', 'OK', 'OK'], type: 'STRING' },
        ],
      }),
    );
    const reads: string[] = [];
    async function* body(name: string) {
      yield file.subarray(0, 4); // the magic bytes, read to tell the format
      reads.push(name);
      yield file.subarray(4);
    }
    const first = decodeObject(body('first'), { origin: { key: 'a.parquet' } });
    const second = decodeObject(body('second'), { origin: { key: 'b.parquet' } });
    expect((await first.next()).value).toMatchObject({ kind: 'record' });
    // The second object waits for its turn before reading the rest of its bytes.
    const secondFirst = second.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(reads).toEqual(['first']);
    await first.return(undefined);
    expect((await secondFirst).value).toMatchObject({ kind: 'record' });
    expect(reads).toEqual(['first', 'second']);
    await second.return(undefined);
  });

  it('checks the version of Parquet rows as of text lines', async () => {
    const file = parquetWriteBuffer({
      columnData: [
        { name: 'version', data: [9, 2, 5], type: 'INT32' },
        { name: 'log_status', data: ['OK', 'OK', 'NODATA'], type: 'STRING' },
      ],
    });
    const got = await decodeAll(new Uint8Array(file), { origin: { key: 'x.parquet' } });
    expect(rejects(got)).toEqual([
      expect.objectContaining({
        code: 'DECODE_FLOW_UNKNOWN_VERSION',
        origin: expect.objectContaining({ record: 1 }),
        reason: expect.stringMatching(/^row 1: unknown flow log version "9"/),
        raw: '9 OK',
      }),
    ]);
    expect(flows(got).map((r) => r.origin.record)).toEqual([2, 3]);
  });
});
