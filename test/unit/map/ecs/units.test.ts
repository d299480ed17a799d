import { describe, expect, it } from 'vitest';
import { communityId, documentId, javaMapString, toEcs } from '../../../../src/map/ecs/index.js';
import { dropEmpty } from '../../../../src/map/ecs/java-map-string.js';
import type { RawRecord } from '../../../../src/types.js';

type Doc = Record<string, any>;

describe('Community ID v1', () => {
  it('matches the spec test vectors and Elastic expected outputs', () => {
    expect(communityId('1.2.3.4', 1122, '5.6.7.8', 3344, 6)).toBe('1:wCb3OG7yAFWelaUydu0D+125CLM=');
    expect(communityId('1.2.3.4', 1122, '5.6.7.8', 3344, 17)).toBe('1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=');
    expect(communityId('216.160.83.56', 36721, '89.160.20.128', 8080, 17)).toBe(
      '1:sU/jA1+FI5cshrGCoA1TfwNwfOo=',
    );
    expect(communityId('2a02:cf40::', 42910, '1.128.0.0', 80, 17)).toBe('1:6Lxpa8XQj/6l+zLv/BSTAHZoSJ0=');
  });

  it('is the same in both directions and absent without ports or valid IPs', () => {
    expect(communityId('5.6.7.8', 3344, '1.2.3.4', 1122, 6)).toBe(
      communityId('1.2.3.4', 1122, '5.6.7.8', 3344, 6),
    );
    expect(communityId('1.2.3.4', 0, '5.6.7.8', 0, 1)).toBeUndefined();
    expect(communityId('211.9.016.253', 1, '5.6.7.8', 2, 6)).toBeUndefined();
  });
});

describe('Java Map.toString form', () => {
  it('drops empties, prints nested lists and maps in HashMap order', () => {
    expect(javaMapString({ a: '', b: null, c: {}, d: [1, 'x', true], e: { f: 1.5 } })).toBe(
      '{d=[1, x, true], e={f=1.5}}',
    );
    expect(javaMapString({ bucketName: 'b', Host: 'h', key: 'k' })).toBe('{bucketName=b, Host=h, key=k}');
  });

  it('drops empties without copying what has none and without changing the original', () => {
    const clean = { a: 'x', b: [1, { c: 'y' }], d: { e: false } };
    expect(dropEmpty(clean)).toBe(clean);
    const dirty = { a: 'x', b: [1, '', { c: null }], d: { e: false, f: [] }, g: { h: '' } };
    const before = JSON.stringify(dirty);
    const cleaned = dropEmpty(dirty) as Record<string, unknown>;
    expect(cleaned).toEqual({ a: 'x', b: [1], d: { e: false } });
    expect(Object.keys(cleaned)).toEqual(['a', 'b', 'd']);
    expect(JSON.stringify(dirty)).toBe(before);
    expect(dropEmpty({ a: { b: [null, ''] } })).toBeUndefined();
    expect(dropEmpty(['', 'a', undefined, 'b'])).toEqual(['a', 'b']);
  });
});

describe('toEcs options and ids', () => {
  const ct: RawRecord = {
    logType: 'cloudtrail',
    origin: { bucket: 'logs', key: 'AWSLogs/1/CloudTrail/x.json.gz', record: 3 },
    event: {
      eventID: 'e-1',
      eventName: 'StopLogging',
      sourceIPAddress: '203.0.113.5',
      eventTime: '2026-11-28T10:00:00Z',
    },
  };
  const flow: RawRecord = {
    logType: 'vpcflow',
    origin: { bucket: 'logs', key: 'AWSLogs/1/vpcflowlogs/x.log.gz', record: 7 },
    fields: {
      srcaddr: '203.0.113.5',
      dstaddr: '10.0.0.1',
      srcport: '5',
      dstport: '22',
      protocol: '6',
      start: '1418530010',
      end: '1418530070',
      'log-status': 'OK',
    },
    line: '203.0.113.5 10.0.0.1 5 22 6 1418530010 1418530070 OK',
  };

  it('enriches through an injected GeoIP lookup, namespace and event.original on request', () => {
    const geoip = {
      lookup: (ip: string) =>
        ip === '203.0.113.5' ? { geo: { country_iso_code: 'NL' }, as: { number: 64500 } } : undefined,
    };
    const doc = toEcs(ct, { geoip, namespace: 'prod', includeOriginal: true }) as Doc;
    expect(doc.source).toEqual({
      address: '203.0.113.5',
      ip: '203.0.113.5',
      geo: { country_iso_code: 'NL' },
      as: { number: 64500 },
    });
    expect(doc.data_stream).toEqual({ type: 'logs', dataset: 'aws.cloudtrail', namespace: 'prod' });
    expect(JSON.parse(doc.event.original).eventID).toBe('e-1');
    const f = toEcs(flow, { geoip }) as Doc;
    expect(f.source.geo).toEqual({ country_iso_code: 'NL' });
    expect(f.destination.geo).toBeUndefined();
    expect(toEcs(ct)).not.toHaveProperty('event.original');
  });

  it('documentId: eventID for CloudTrail, a stable hash of bucket/key/line for flows', () => {
    expect(documentId(ct)).toBe('e-1');
    const id = documentId(flow);
    expect(id).toMatch(/^[A-Za-z0-9_-]{27}$/);
    expect(documentId({ ...flow })).toBe(id);
    expect(documentId({ ...flow, origin: { ...flow.origin, record: 8 } })).not.toBe(id);
    expect(documentId({ ...flow, origin: { ...flow.origin, bucket: 'other' } })).not.toBe(id);
  });
});
