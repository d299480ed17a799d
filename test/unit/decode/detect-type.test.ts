import { describe, expect, it } from 'vitest';
import { detectLogType } from '../../../src/decode/index.js';

const bytes = (s: string) => Buffer.from(s);

describe('detectLogType', () => {
  it('uses the S3 key layouts AWS writes', () => {
    expect(detectLogType('AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/a.json.gz')).toBe(
      'cloudtrail',
    );
    expect(detectLogType('o-abc/AWSLogs/123/CloudTrail-Insight/us-east-1/x.json.gz')).toBe('cloudtrail');
    expect(detectLogType('AWSLogs/123/CloudTrail-Digest/us-east-1/x.json.gz')).toBe('digest');
    expect(detectLogType('AWSLogs/123/vpcflowlogs/us-east-1/2026/11/28/x.log.gz')).toBe('vpcflow');
    // Amazon Security Lake's sources (OCSF in Parquet).
    for (const source of ['CLOUD_TRAIL_MGMT', 'S3_DATA', 'LAMBDA_EXECUTION'])
      expect(
        detectLogType(
          `aws/${source}/2.0/region=us-east-1/accountId=123456789012/eventDay=20261129/a.gz.parquet`,
        ),
      ).toBe('cloudtrail');
    expect(detectLogType('aws/VPC_FLOW/2.0/region=us-east-1/a.gz.parquet')).toBe('vpcflow');
  });

  it('falls back to content', () => {
    expect(detectLogType('x', bytes('{"Records":[{"eventVersion":"1.08"'))).toBe('cloudtrail');
    expect(detectLogType('x', bytes('{"eventVersion":"1.08","userIdentity":{}}\n'))).toBe('cloudtrail');
    expect(detectLogType('x', bytes('{"awsAccountId":"1","digestStartTime":"t"'))).toBe('digest');
    expect(detectLogType('x', bytes('version account-id interface-id srcaddr\n'))).toBe('vpcflow');
    expect(detectLogType('x', bytes('2 123456789012 eni-1 1.2.3.4 5.6.7.8 1 2 6 1 1 1 2 ACCEPT OK\n'))).toBe(
      'vpcflow',
    );
    expect(detectLogType('x', bytes('{"message":"2 123 eni"}'))).toBe('vpcflow');
    expect(detectLogType('x', bytes('PAR1\u0000'))).toBe('vpcflow');
    expect(detectLogType('x', bytes('{"class_uid":6003,"metadata":{"product":{"name":"CloudTrail"}}}'))).toBe(
      'cloudtrail',
    );
    expect(detectLogType('x', bytes('hello'))).toBeUndefined();
    expect(detectLogType('x')).toBeUndefined();
  });
});
