import { describe, expect, it } from 'vitest';
import { hecEventJson, toCim } from '../../../../src/map/cim/index.js';
import { EcsMapError, toEcs } from '../../../../src/map/ecs/index.js';
import type { RawRecord } from '../../../../src/types.js';
import { decodeAll, records } from '../../decode/helpers.js';

type Doc = Record<string, any>;

const origin = (record: number) => ({ bucket: 'logs', key: 'AWSLogs/1/x.gz', record });

function trail(event: Record<string, unknown>, record = 3): RawRecord {
  return { logType: 'cloudtrail', origin: origin(record), event: { eventName: 'StopLogging', ...event } };
}

const V2 =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'.split(
    ' ',
  );
const GOOD = '2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1418530010 1418530070 ACCEPT OK';

/** A flow record as the decoder hands it over: `-` already removed. */
function flow(line: string, record = 7, header = V2): RawRecord {
  const fields: Record<string, string> = {};
  line.split(' ').forEach((value, i) => {
    if (value !== '-') fields[header[i]!] = value;
  });
  return { logType: 'vpcflow', origin: origin(record), fields, line };
}

/** GOOD with one field replaced. */
function flowWith(name: string, value: string): RawRecord {
  const values = GOOD.split(' ');
  values[V2.indexOf(name)] = value;
  return flow(values.join(' '));
}

function mapError(record: RawRecord): EcsMapError {
  try {
    toEcs(record);
  } catch (err) {
    expect(err).toBeInstanceOf(EcsMapError);
    return err as EcsMapError;
  }
  throw new Error('toEcs did not throw');
}

describe('ECS mapping refuses records it cannot represent', () => {
  it('CloudTrail without eventTime: MAP_FAILED naming object, record and field', () => {
    const err = mapError(trail({}));
    expect(err.code).toBe('MAP_FAILED');
    expect(err.message).toBe('s3://logs/AWSLogs/1/x.gz record 3: eventTime is missing');
    expect(err.details).toEqual({ bucket: 'logs', key: 'AWSLogs/1/x.gz', record: 3, field: 'eventTime' });
    expect(mapError(trail({ eventTime: '' })).message).toContain('eventTime is missing');
    expect(mapError(trail({ eventTime: null })).message).toContain('eventTime is missing');
  });

  it('CloudTrail with an unparsable eventTime', () => {
    expect(mapError(trail({ eventTime: 'garbage' })).message).toBe(
      's3://logs/AWSLogs/1/x.gz record 3: eventTime "garbage" is not a timestamp',
    );
    // The whole-second shape alone is not enough: these are not times.
    for (const eventTime of ['2026-13-01T00:00:00Z', '2026-11-28T10:61:00Z', '2026-11-28T10:00:60Z'])
      expect(mapError(trail({ eventTime })).details.field).toBe('eventTime');
    expect(mapError(trail({ eventTime: 1764324000 })).message).toContain('eventTime 1764324000 is not');
  });

  it('CloudTrail times that are valid keep mapping, on the fast path and off it', () => {
    const at = (eventTime: string) => (toEcs(trail({ eventTime })) as Doc)['@timestamp'];
    expect(at('2026-11-28T10:00:00Z')).toBe('2026-11-28T10:00:00.000Z');
    expect(at('2024-02-29T23:59:59Z')).toBe('2024-02-29T23:59:59.000Z');
    expect(at('2026-11-28T10:00:00.123Z')).toBe('2026-11-28T10:00:00.123Z');
    expect(at('2026-11-28T11:00:00+01:00')).toBe('2026-11-28T10:00:00.000Z');
  });

  it('accepts and refuses eventTime exactly as the CIM mapper does, at the same instant', () => {
    const times = [
      '2026-11-28T10:00:00Z',
      '2026-02-29T10:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-11-28T10:00:00.5Z',
      '2026-13-01T00:00:00Z',
      'garbage',
    ];
    for (const eventTime of times) {
      const record = trail({ eventTime });
      let cim: number | string;
      let ecs: number | string;
      try {
        cim = (toCim(record).time ?? Number.NaN) * 1000;
      } catch (err) {
        cim = (err as Error).message;
      }
      try {
        ecs = Date.parse((toEcs(record) as Doc)['@timestamp']);
      } catch (err) {
        ecs = (err as Error).message;
      }
      expect([eventTime, ecs]).toEqual([eventTime, cim]);
    }
  });

  it('flow line with a port that is not a whole number', () => {
    const err = mapError(flowWith('dstport', 'abc'));
    expect(err.code).toBe('MAP_FAILED');
    expect(err.message).toBe('s3://logs/AWSLogs/1/x.gz line 7: dstport "abc" is not a whole number');
    expect(err.details).toMatchObject({ field: 'dstport', record: 7 });
    expect(mapError(flowWith('srcport', '80.5')).details.field).toBe('srcport');
    expect(mapError(flowWith('srcport', '70000')).message).toContain('srcport "70000" is out of range');
  });

  it('flow line with a start or end that is not a whole number', () => {
    expect(mapError(flowWith('start', 'xx')).message).toBe(
      's3://logs/AWSLogs/1/x.gz line 7: start "xx" is not a whole number',
    );
    expect(mapError(flowWith('end', '1e9')).details.field).toBe('end');
    expect(mapError(flowWith('end', '99999999999999')).message).toContain('out of range for a timestamp');
  });

  it('a flow line with neither start nor end (layouts without times) is stamped with the time it is mapped', () => {
    const before = Date.now();
    const timeless = flow('2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 - - ACCEPT OK');
    const stamped = Date.parse((toEcs(timeless) as Doc)['@timestamp']);
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(Date.now());
    // HEC stamps it on receipt: the envelope carries no time.
    const envelope = toCim(timeless);
    expect(envelope.time).toBeUndefined();
    expect(JSON.parse(hecEventJson(envelope))).not.toHaveProperty('time');
  });

  it('every other number field AWS documents, where present', () => {
    expect(mapError(flowWith('protocol', 'tcp')).message).toContain(
      'protocol "tcp" is not an IANA protocol number',
    );
    expect(mapError(flowWith('bytes', '-1')).details.field).toBe('bytes');
    expect(mapError(flowWith('packets', ' 1')).details.field).toBe('packets');
    const v5 = [...V2, 'tcp-flags', 'traffic-path', 'packets-lost-no-route'];
    const line = (extra: string) => flow(`${GOOD} ${extra}`, 7, v5);
    expect(mapError(line('x 1 0')).details.field).toBe('tcp-flags');
    expect(mapError(line('2 1.0 0')).details.field).toBe('traffic-path');
    expect(mapError(line('2 1 lots')).details.field).toBe('packets-lost-no-route');
    // `-` means absent: nothing to check.
    const doc = toEcs(line('- - -')) as Doc;
    expect(doc.aws.vpcflow.tcp_flags).toBeUndefined();
    expect((toEcs(line('18 1 0')) as Doc).aws.vpcflow.tcp_flags_array).toEqual(['syn', 'ack']);
  });

  it('the CIM mapper refuses the same flow lines, for the same field', () => {
    for (const [name, value] of [
      ['dstport', 'abc'],
      ['start', 'xx'],
      ['protocol', 'tcp'],
      ['bytes', '1.5'],
    ] as const) {
      const record = flowWith(name, value);
      expect(() => toCim(record)).toThrowError(
        expect.objectContaining({ details: expect.objectContaining({ field: name }) }),
      );
      expect(mapError(record).details.field).toBe(name);
    }
  });

  it('NODATA and SKIPDATA lines still map: times and status, no traffic fields', async () => {
    const text = [
      '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA',
      '2 123456789010 eni-11111111111111111 - - - - - - - 1431280876 1431280934 - SKIPDATA',
    ].join('\n');
    const docs = records(await decodeAll(text, { logType: 'vpcflow' })).map((r) => toEcs(r) as Doc);
    expect(docs).toHaveLength(2);
    for (const doc of docs) {
      expect(doc['@timestamp']).toBe('2015-05-10T18:02:14.000Z');
      expect(doc.event.start).toBe('2015-05-10T18:01:16.000Z');
      expect(doc.source).toBeUndefined();
      expect(doc.network).toBeUndefined();
    }
    expect(docs.map((d) => d.aws.vpcflow.log_status)).toEqual(['NODATA', 'SKIPDATA']);
    // A traffic field that is there must still be a number, even on a NODATA line.
    const odd = flow('2 1 eni-1 - - abc - - - - 1431280876 1431280934 - NODATA');
    expect(mapError(odd).details.field).toBe('srcport');
  });
});
