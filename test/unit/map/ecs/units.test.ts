import { describe, expect, it } from 'vitest';
import { elasticCommunityId } from '../../../../src/map/ecs/community-id.js';
import { communityId, documentId, javaMapString, toEcs } from '../../../../src/map/ecs/index.js';
import { dropEmpty } from '../../../../src/map/ecs/java-map-string.js';
import type { RawRecord } from '../../../../src/types.js';
import { decodeAll, records } from '../../decode/helpers.js';

type Doc = Record<string, any>;

/*
 * Expected values are published ones, never produced by this code: the Community ID spec's baseline
 * (corelight/community-id-spec, baseline/README.md tables and baseline_deflt.json), the unit tests of
 * Elasticsearch's community_id processor (CommunityIdProcessorTests.java) and Elastic integrations'
 * expected outputs (aws vpcflow test-extra-samples.log-expected.json, zscaler_zia tunnel sample event).
 */
describe('Community ID v1', () => {
  const V6A = 'fe80:0001:0203:0405:0607:0809:0A0B:0C0D';
  const V6B = 'fe80:1011:1213:1415:1617:1819:1A1B:1C1D';

  it('TCP, UDP and SCTP: the spec vectors and Elastic expected outputs', () => {
    expect(communityId('1.2.3.4', 1122, '5.6.7.8', 3344, 6)).toBe('1:wCb3OG7yAFWelaUydu0D+125CLM=');
    expect(communityId('1.2.3.4', 1122, '5.6.7.8', 3344, 17)).toBe('1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=');
    expect(communityId('5.6.7.8', 3344, '1.2.3.4', 1122, 132)).toBe('1:EKt4MsxuyaE6mL+hmrEkQ9csDD8=');
    expect(communityId('216.160.83.56', 36721, '89.160.20.128', 8080, 17)).toBe(
      '1:sU/jA1+FI5cshrGCoA1TfwNwfOo=',
    );
    expect(communityId('2a02:cf40::', 42910, '1.128.0.0', 80, 17)).toBe('1:6Lxpa8XQj/6l+zLv/BSTAHZoSJ0=');
    expect(
      communityId('2607:f8b0:400c:c03::1a', 25, '2001:470:e5bf:dead:4957:2174:e82c:4887', 63943, 6),
    ).toBe('1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=');
    expect(communityId('128.232.110.120', 34855, '66.35.250.204', 80, 6)).toBe(
      '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
    );
    expect(
      communityId(
        '2001:0db8:85a3:0000:0000:8a2e:0370:7334',
        34855,
        '2001:0:9d38:6ab8:1c48:3a1c:a95a:b1c2',
        80,
        6,
      ),
    ).toBe('1:YC1+javPJ2LpK5xVyw1udfT83Qs=');
  });

  it('ICMP: type and code as ports; echo request and reply pair up, one-way types keep their direction', () => {
    // Spec baseline: echo request (type 8) out and echo reply (type 0) back are one flow.
    expect(communityId('1.2.3.4', 8, '5.6.7.8', 0, 1)).toBe('1:crodRHL2FEsHjbv3UkRrfbs4bZ0=');
    expect(communityId('5.6.7.8', 0, '1.2.3.4', 0, 1)).toBe('1:crodRHL2FEsHjbv3UkRrfbs4bZ0=');
    expect(communityId('192.168.0.1', 0, '192.168.0.89', 0, 1)).toBe('1:X0snYXpgwiv9TZtqg64sgzUn6Dk=');
    // Time exceeded (11) has no counterpart: one-way, hashed with its code as given.
    expect(communityId('1.2.3.4', 11, '5.6.7.8', 0, 1)).toBe('1:f/YiSyWqczrTgfUCZlBUnvHRcPk=');
    expect(communityId('5.6.7.8', 11, '1.2.3.4', 0, 1)).not.toBe('1:f/YiSyWqczrTgfUCZlBUnvHRcPk=');
    // Elasticsearch's tests: destination unreachable 3/3 (one-way), router solicitation 10 (two-way, code unused).
    expect(communityId('128.232.110.120', 3, '66.35.250.204', 3, 1)).toBe('1:KF3iG9XD24nhlSy4r1TcYIr5mfE=');
    expect(communityId('128.232.110.120', 10, '66.35.250.204', 3, 1)).toBe('1:L8wnzpmRHIESLqLBy+zTqW3Pmqs=');
    expect(communityId('128.232.110.120', 10, '66.35.250.204', 0, 1)).toBe('1:L8wnzpmRHIESLqLBy+zTqW3Pmqs=');
  });

  it('ICMPv6: the same treatment with the ICMPv6 counterparts', () => {
    expect(communityId(V6A, 128, V6B, 0, 58)).toBe('1:0bf7hyMJUwt3fMED7z8LIfRpBeo=');
    expect(communityId(V6B, 129, V6A, 0, 58)).toBe('1:0bf7hyMJUwt3fMED7z8LIfRpBeo=');
    expect(communityId(V6A, 146, V6B, 0, 58)).toBe('1:fYC8+pz24E+EhANP1EZhpX0Dw10=');
    // Neighbour solicitation (135) and advertisement (136): each direction pairs with its answer.
    const a = 'fe80::200:86ff:fe05:80da';
    const b = 'fe80::260:97ff:fe07:69ea';
    expect(communityId(a, 135, b, 0, 58)).toBe('1:dGHyGvjMfljg6Bppwm3bg0LO8TY=');
    expect(communityId(b, 136, a, 0, 58)).toBe('1:dGHyGvjMfljg6Bppwm3bg0LO8TY=');
    expect(communityId(b, 135, a, 0, 58)).toBe('1:zavyT/cezQr1fmImYCwYnMXbgck=');
    expect(communityId(a, 133, 'ff02::2', 0, 58)).toBe('1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=');
    // One-way: time exceeded 3/0, destination unreachable 1/4.
    expect(communityId('3ffe:501:1800:2345::2', 3, '3ffe:507:0:1:200:86ff:fe05:80da', 0, 58)).toBe(
      '1:2ObVBgIn28oZvibYZhZMBgh7WdQ=',
    );
    expect(communityId('3ffe:501:410:0:2c0:dfff:fe47:33e', 1, '3ffe:507:0:1:200:86ff:fe05:80da', 4, 58)).toBe(
      '1:hLZd0XGWojozrvxqE0dWB1iM6R0=',
    );
  });

  it('protocols without ports hash addresses and protocol only, in either direction', () => {
    expect(communityId('1.2.3.4', 0, '5.6.7.8', 0, 46)).toBe('1:ikv3kmf89luf73WPz1jOs49S768=');
    expect(communityId('5.6.7.8', 1122, '1.2.3.4', 3344, 46)).toBe('1:ikv3kmf89luf73WPz1jOs49S768=');
    expect(communityId(V6B, 0, V6A, 0, 46)).toBe('1:wQ/2mwrnXP4lmJcHdGL5ePjR+e0=');
    expect(communityId('10.1.12.2', 0, '10.1.12.1', 0, 46)).toBe('1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=');
    expect(communityId('128.232.110.120', 0, '66.35.250.204', 0, 2)).toBe('1:D3t8Q1aFA6Ev0A/AO4i9PnU3AeI=');
    expect(communityId('192.168.1.2', 0, '10.1.2.3', 0, 4)).toBe('1:KXQzmk3bdsvD6UXj7dvQ4bM6Zvw=');
    expect(communityId('0.0.0.0', 0, '0.0.0.0', 0, 47)).toBe('1:y8Yi03w0LBfVdMLE1UG7vvaUt5w=');
    expect(communityId('10.0.0.9', 0, '10.0.0.1', 0, 47)).toBe(communityId('10.0.0.1', 7, '10.0.0.9', 8, 47));
  });

  it('uses the seed', () => {
    expect(communityId('5.6.7.8', 0, '1.2.3.4', 0, 1, 1)).toBe('1:9pr4ZGTICiuZoIh90RRYE2RyXpU=');
    expect(communityId(V6A, 0, V6B, 0, 46, 1)).toBe('1:j6EyyfBzL4vWKHFXgUqb5Az3OxM=');
    expect(communityId('128.232.110.120', 34855, '66.35.250.204', 80, 6, 123)).toBe(
      '1:hTSGlFQnR58UCk+NfKRZzA32dPg=',
    );
  });

  it('is the same in both directions and absent without valid IPs, protocol or ports', () => {
    expect(communityId('5.6.7.8', 3344, '1.2.3.4', 1122, 6)).toBe(
      communityId('1.2.3.4', 1122, '5.6.7.8', 3344, 6),
    );
    expect(communityId('211.9.016.253', 1, '5.6.7.8', 2, 6)).toBeUndefined();
    expect(communityId('1.2.3.4', 1, 'example.com', 2, 47)).toBeUndefined();
    expect(communityId('1.2.3.4', 1, '5.6.7.8', 2, 256)).toBeUndefined();
    expect(communityId('1.2.3.4', 65536, '5.6.7.8', 2, 17)).toBeUndefined();
    expect(communityId('1.2.3.4', -1, '5.6.7.8', 0, 1)).toBeUndefined();
    // Java (Elastic) reads an IPv4-mapped IPv6 address as the IPv4 address.
    expect(communityId('::ffff:1.2.3.4', 1122, '5.6.7.8', 3344, 6)).toBe('1:wCb3OG7yAFWelaUydu0D+125CLM=');
  });
});

/** What Elastic's processor makes of VPC flow documents: no icmp.type/icmp.code, ports 1–65535 for TCP/UDP/SCTP. */
describe('Community ID as Elastic sets it on VPC flow documents', () => {
  it('ICMP: type and code absent read as 0, the record ports are not used', () => {
    // Elasticsearch CommunityIdProcessorTests.testBeatsIcmpWithoutTypeOrCode: ports present but unused.
    expect(elasticCommunityId('128.232.110.120', 34855, '66.35.250.204', 80, 1)).toBe(
      '1:PAE85ZfR4SbNXl5URZwWYyDehwU=',
    );
    expect(elasticCommunityId('128.232.110.120', 0, '66.35.250.204', 0, 1)).toBe(
      '1:PAE85ZfR4SbNXl5URZwWYyDehwU=',
    );
    // ICMPv6 type 0 has no counterpart: one-way, so each direction keeps its own id.
    const out = elasticCommunityId('2001:db8::1', 0, '2001:db8::2', 0, 58);
    expect(out).toBe(communityId('2001:db8::1', 0, '2001:db8::2', 0, 58));
    expect(elasticCommunityId('2001:db8::2', 0, '2001:db8::1', 0, 58)).not.toBe(out);
  });

  it('TCP/UDP/SCTP as before, but nothing for a port 0 or a missing port (the processor refuses them)', () => {
    expect(elasticCommunityId('128.232.110.120', 34855, '66.35.250.204', 80, 6)).toBe(
      '1:LQU9qZlK+B5F3KDmev6m5PMibrg=',
    );
    expect(elasticCommunityId('1.2.3.4', 1122, '5.6.7.8', 3344, 17)).toBe('1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=');
    expect(elasticCommunityId('1.2.3.4', 0, '5.6.7.8', 3344, 6)).toBeUndefined();
    expect(elasticCommunityId('1.2.3.4', 1122, '5.6.7.8', 0, 17)).toBeUndefined();
    expect(elasticCommunityId('1.2.3.4', undefined, '5.6.7.8', 3344, 132)).toBeUndefined();
  });

  it('other protocols: addresses and protocol only; nothing for protocol 255', () => {
    expect(elasticCommunityId('128.232.110.120', undefined, '66.35.250.204', undefined, 2)).toBe(
      '1:D3t8Q1aFA6Ev0A/AO4i9PnU3AeI=',
    );
    expect(elasticCommunityId('0.0.0.0', 0, '0.0.0.0', undefined, 47)).toBe('1:y8Yi03w0LBfVdMLE1UG7vvaUt5w=');
    expect(elasticCommunityId('10.0.0.1', 0, '10.0.0.2', 0, 50)).toBe(
      elasticCommunityId('10.0.0.2', undefined, '10.0.0.1', undefined, 50),
    );
    expect(elasticCommunityId('10.0.0.1', 0, '10.0.0.2', 0, 255)).toBeUndefined();
  });

  it('in mapped flow records (Elastic aws vpcflow expected outputs)', async () => {
    const text = [
      '2 123456789010 eni-1235b8ca123456789 89.160.20.156 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK',
      '2 123456789010 eni-1235b8ca123456789 172.31.16.139 89.160.20.156 0 0 1 4 336 1432917094 1432917142 REJECT OK',
      '2 123456789010 eni-1235b8ca123456789 89.160.20.156 89.160.20.156 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
      '2 123456789010 eni-1235b8ca123456789 89.160.20.156 89.160.20.156 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK',
      '2 123456789010 eni-1 2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6 2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK',
      '2 123456789010 eni-1 10.0.0.1 10.0.0.9 0 0 47 4 336 1432917027 1432917142 ACCEPT OK',
      '2 123456789010 eni-1 10.0.0.9 10.0.0.1 0 0 47 4 336 1432917027 1432917142 ACCEPT OK',
      '2 123456789010 eni-1 2001:db8::1 2001:db8::2 0 0 58 4 336 1432917027 1432917142 ACCEPT OK',
      '2 123456789010 eni-1 10.0.0.1 10.0.0.2 0 443 6 4 336 1432917027 1432917142 REJECT OK',
      '2 123456789010 eni-1 10.0.0.1 - 0 0 1 4 336 1432917027 1432917142 REJECT OK',
    ].join('\n');
    const ids = records(await decodeAll(text, { logType: 'vpcflow' })).map(
      (r) => (toEcs(r) as Doc).network?.community_id,
    );
    expect(ids.slice(0, 5)).toEqual([
      '1:cttDCHp3UNR8SFNTOgVYpAceHf4=',
      '1:XiVZKra6oEtIAPBi9QgeQL4Hp6M=',
      '1:CEGBlG6oEeW2Y5LLdr9GONITz00=',
      '1:va8LK/uEqYpj4NoZ9/5WRLio5rs=',
      '1:3piNHoW0DjbrWkF//BeRomCaOZQ=',
    ]);
    // GRE: one id for both directions, from addresses and protocol alone.
    expect(ids[5]).toBe(communityId('10.0.0.9', 0, '10.0.0.1', 0, 47));
    expect(ids[6]).toBe(ids[5]);
    expect(ids[7]).toBe(elasticCommunityId('2001:db8::1', 0, '2001:db8::2', 0, 58));
    expect(ids.slice(8)).toEqual([undefined, undefined]);
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
