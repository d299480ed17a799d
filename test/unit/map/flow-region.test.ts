import { describe, expect, it } from 'vitest';
import { recordAccount } from '../../../src/map/account.js';
import { toCim } from '../../../src/map/cim/index.js';
import { toEcs } from '../../../src/map/ecs/index.js';
import type { RawRecord } from '../../../src/types.js';

const V2 = '2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK';
const V2_FIELDS =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'.split(
    ' ',
  );

function flow(key: string, extra: Record<string, string>): RawRecord {
  const values = V2.split(' ');
  const fields: Record<string, string> = { ...extra };
  V2_FIELDS.forEach((name, i) => {
    fields[name] = values[i]!;
  });
  return { logType: 'vpcflow', origin: { bucket: 'logs', key, record: 1 }, fields, line: V2 };
}

/** ECS `cloud.region` and CIM `vendor_region` of a v2 line in an object at `key`: always the same. */
function flowDoc(key: string, extra: Record<string, string> = {}) {
  const record = flow(key, extra);
  const doc = toEcs(record) as { cloud: { region?: string } };
  expect(toCim(record).fields.vendor_region).toBe(doc.cloud.region);
  return doc;
}

describe('VPC flow region (ECS cloud.region, CIM vendor_region)', () => {
  it('comes from the delivery key when the format has no region field', () => {
    expect(
      flowDoc(
        'AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/28/123456789012_vpcflowlogs_eu-west-1_fl-0abc_20261128T0000Z_1a2b3c4d.log.gz',
      ).cloud.region,
    ).toBe('eu-west-1');
    expect(
      flowDoc('prefix/AWSLogs/210987654321/vpcflowlogs/us-gov-west-1/2026/11/28/x.log.gz').cloud.region,
    ).toBe('us-gov-west-1');
    // Hive-compatible prefixes, and a file moved elsewhere that keeps AWS's name.
    expect(
      flowDoc(
        'AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=ap-northeast-1/year=2026/month=11/day=28/hour=10/x.log.parquet',
      ).cloud.region,
    ).toBe('ap-northeast-1');
    expect(
      flowDoc('archive/123456789012_vpcflowlogs_ca-central-1_fl-0abc_20261128T0000Z_1a2b3c4d.log.gz').cloud
        .region,
    ).toBe('ca-central-1');
  });

  it("is the record's own region field when it has one, and absent when neither says", () => {
    const key = 'AWSLogs/123456789012/vpcflowlogs/eu-west-1/2026/11/28/x.log.gz';
    expect(flowDoc(key, { region: 'ap-southeast-2' }).cloud.region).toBe('ap-southeast-2');
    expect(flowDoc('flows/exported-from-cloudwatch.log').cloud.region).toBeUndefined();
  });
});

describe('the account of a flow record (per-account routing)', () => {
  const V2_NO_ACCOUNT = (key: string) => {
    const record = flow(key, {}) as Extract<RawRecord, { logType: 'vpcflow' }>;
    delete record.fields['account-id'];
    return record;
  };

  it("is the line's account-id, else the delivery key's account", () => {
    expect(recordAccount(flow('any/key.log.gz', {}))).toBe('123456789012');
    expect(
      recordAccount(V2_NO_ACCOUNT('AWSLogs/210987654321/vpcflowlogs/eu-west-1/2026/11/28/x.log.gz')),
    ).toBe('210987654321');
    expect(
      recordAccount(
        V2_NO_ACCOUNT(
          'logs/AWSLogs/aws-account-id=333333333333/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/x.log.gz',
        ),
      ),
    ).toBe('333333333333');
    expect(recordAccount(V2_NO_ACCOUNT('moved/444444444444_vpcflowlogs_eu-west-1_fl-1_x.log.gz'))).toBe(
      '444444444444',
    );
    expect(recordAccount(V2_NO_ACCOUNT('firehose/2026/11/28/x.gz'))).toBeUndefined();
  });
});

describe('data stream namespace per account (ECS)', () => {
  it("writes the namespace of the record's account, else the configured one", () => {
    const options = { namespace: 'prod', accountNamespaces: { '123456789012': 'tenant_a' } };
    const doc = (record: RawRecord) =>
      (toEcs(record, options) as { data_stream: { namespace: string } }).data_stream;
    expect(doc(flow('any/key.log.gz', {})).namespace).toBe('tenant_a');
    const other = flow('any/key.log.gz', {}) as Extract<RawRecord, { logType: 'vpcflow' }>;
    other.fields['account-id'] = '999999999999';
    expect(doc(other).namespace).toBe('prod');
  });
});
