import { describe, expect, it } from 'vitest';
import { toCim } from '../../../../src/map/cim/index.js';
import { toEcs } from '../../../../src/map/ecs/index.js';
import type { RawRecord, RecordOrigin } from '../../../../src/types.js';

type Doc = Record<string, any>;

const trail = (origin: RecordOrigin): RawRecord => ({
  logType: 'cloudtrail',
  origin,
  event: { eventID: 'e-1', eventName: 'StopLogging', eventTime: '2026-11-28T10:00:00Z' },
});

const flowLine = '2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1700000000 1700000060 ACCEPT OK';
const flow = (origin: RecordOrigin): RawRecord => ({
  logType: 'vpcflow',
  origin,
  fields: {
    version: '2',
    'account-id': '123456789012',
    'interface-id': 'eni-1',
    srcaddr: '10.0.0.1',
    dstaddr: '10.0.0.2',
    srcport: '443',
    dstport: '49152',
    protocol: '6',
    packets: '10',
    bytes: '840',
    start: '1700000000',
    end: '1700000060',
    action: 'ACCEPT',
    'log-status': 'OK',
  },
  line: flowLine,
});

// Filebeat's aws-s3 input puts these on every event, so an analyst can tell which object a document came from.
describe('ECS documents name the object their record came from', () => {
  const fromS3 = [
    {
      kind: 'CloudTrail',
      make: trail,
      bucket: 'trail-bucket',
      key: 'AWSLogs/1/CloudTrail/us-east-1/a.json.gz',
    },
    { kind: 'flow', make: flow, bucket: 'flow-bucket', key: 'AWSLogs/1/vpcflowlogs/us-east-1/b.log.gz' },
  ];
  for (const { kind, make, bucket, key } of fromS3) {
    it(`a ${kind} record from S3: bucket, key and the s3:// URL, beside its own aws fields`, () => {
      const record = make({ bucket, key, record: 3 });
      const doc = toEcs(record) as Doc;
      // toEqual: no aws.s3.bucket.arn, whose partition the origin does not tell.
      expect(doc.aws.s3).toEqual({ bucket: { name: bucket }, object: { key } });
      expect(doc.log).toEqual({ file: { path: `s3://${bucket}/${key}` } });
      expect(Object.keys(doc.aws)).toEqual([record.logType, 's3']);
      // The same text the Splunk side sends as `source`.
      expect(doc.log.file.path).toBe(toCim(record).source);
    });
  }

  it('a local file: its path in log.file.path, and no aws.s3', () => {
    for (const record of [
      trail({ key: 'samples/trail.json', record: 1 }),
      flow({ key: 'samples/flows.log', record: 1 }),
    ]) {
      const doc = toEcs(record) as Doc;
      expect(doc.aws).not.toHaveProperty('s3');
      expect(doc.log).toEqual({ file: { path: record.origin.key } });
    }
  });
});
