import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CimMapError, toCim } from '../../../../src/map/cim/index.js';
import type { RawRecord } from '../../../../src/types.js';

const repoRoot = path.resolve(import.meta.dirname, '../../../..');
const peer = path.resolve(repoRoot, '../shared/peer');
const havePeer = existsSync(peer);

function ct(event: Record<string, unknown>, record = 1): RawRecord {
  return {
    logType: 'cloudtrail',
    origin: { bucket: 'trail-bucket', key: 'AWSLogs/x.json.gz', record },
    event,
  };
}

const V2 =
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'.split(
    ' ',
  );

function flow(line: string, header = V2, record = 1): RawRecord {
  const values = line.split(' ');
  const fields: Record<string, string> = {};
  header.forEach((name, i) => {
    const v = values[i];
    if (v !== undefined && v !== '-') fields[name] = v;
  });
  return {
    logType: 'vpcflow',
    origin: { bucket: 'flow-bucket', key: 'flows/a.log.gz', record },
    fields,
    line,
  };
}

/** What HEC documents `fields` values as: strings or lists of strings (code 15 for anything nested). */
function flatOk(fields: Record<string, unknown>): boolean {
  return Object.values(fields).every(
    (v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')),
  );
}

describe('toCim — CloudTrail (hand-built records)', () => {
  const login = {
    eventVersion: '1.08',
    eventTime: '2024-03-01T10:20:30.250Z',
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    eventType: 'AwsConsoleSignIn',
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userIdentity: {
      type: 'IAMUser',
      accountId: '111122223333',
      arn: 'arn:aws:iam::111122223333:user/alice',
      userName: 'alice',
    },
    responseElements: { ConsoleLogin: 'Success' },
    additionalEventData: { LoginTo: 'https://console.aws.amazon.com/', MFAUsed: 'Yes' },
    eventID: 'e-1',
  };

  it('builds the envelope: time with fraction, source, sourcetype, original event, options', () => {
    const out = toCim(ct(login), { host: 'connector-1', index: 'aws' });
    expect(out.time).toBe(Date.parse('2024-03-01T10:20:30.250Z') / 1000);
    expect(out.source).toBe('s3://trail-bucket/AWSLogs/x.json.gz');
    expect(out.sourcetype).toBe('aws:cloudtrail');
    expect(out.event).toBe(login);
    expect(out.host).toBe('connector-1');
    expect(out.index).toBe('aws');
    expect(toCim(ct(login)).host).toBeUndefined();
  });

  it('maps a successful console login to Authentication with MFA', () => {
    const { fields } = toCim(ct(login));
    expect(fields).toMatchObject({
      action: 'success',
      status: 'success',
      app: 'AwsConsoleSignIn',
      src: '198.51.100.7',
      src_ip: '198.51.100.7',
      user: 'alice',
      dest: 'https://console.aws.amazon.com/',
      signature: 'ConsoleLogin',
      authentication_method: 'MFA',
      vendor_product: 'AWS CloudTrail',
      aws_account_id: '111122223333',
      vendor_region: 'us-east-1',
    });
    expect(fields.change_type).toBeUndefined();
  });

  it('treats a console login that answered Failure as a failure even without errorCode', () => {
    const failed = {
      ...login,
      responseElements: { ConsoleLogin: 'Failure' },
      additionalEventData: { MFAUsed: 'No', LoginTo: 'x' },
    };
    const { fields } = toCim(ct(failed));
    expect(fields.action).toBe('failure');
    expect(fields.status).toBe('failure');
    expect(fields.authentication_method).toBe('SFA');
  });

  it('maps a write to Change: action, object, object_category, change_type, command, user', () => {
    const createUser = {
      eventTime: '2024-03-01T10:00:00Z',
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
      eventType: 'AwsApiCall',
      readOnly: false,
      awsRegion: 'us-east-1',
      sourceIPAddress: '203.0.113.9',
      recipientAccountId: '111122223333',
      userIdentity: {
        type: 'IAMUser',
        accountId: '111122223333',
        userName: 'admin',
        arn: 'arn:aws:iam::111122223333:user/admin',
      },
      requestParameters: { userName: 'backdoor' },
      responseElements: { user: { userName: 'backdoor', userId: 'AIDAEXAMPLE' } },
    };
    const { fields } = toCim(ct(createUser));
    expect(fields).toMatchObject({
      action: 'created',
      status: 'success',
      change_type: 'AAA',
      object: 'backdoor',
      object_id: 'AIDAEXAMPLE',
      object_category: 'user',
      command: 'CreateUser',
      user: 'backdoor',
      dest: 'iam.amazonaws.com',
      vendor_account: '111122223333',
      user_arn: 'arn:aws:iam::111122223333:user/admin',
      // `user` is the account created; the actor is src_user.
      src_user: 'admin',
      src_user_name: 'admin',
      src_user_type: 'IAMUser',
    });
    expect(fields.user_type).toBeUndefined();
    expect(fields.src_user_id).toBeUndefined();
  });

  it('keeps the verb action and marks status failure when a write was denied', () => {
    const denied = {
      eventTime: '2024-03-01T10:00:00Z',
      eventSource: 'iam.amazonaws.com',
      eventName: 'DeleteUser',
      errorCode: 'AccessDenied',
      errorMessage:
        'User: arn:aws:iam::1:user/eve is not authorized to perform: iam:DeleteUser on resource: user bob',
      userIdentity: { type: 'IAMUser', accountId: '1', userName: 'eve' },
      requestParameters: { userName: 'bob' },
    };
    const { fields } = toCim(ct(denied));
    expect(fields).toMatchObject({
      action: 'deleted',
      status: 'failure',
      result_id: 'AccessDenied',
      result: denied.errorMessage,
      reason: denied.errorMessage,
      object: 'bob',
    });
  });

  it('gives read-only calls the common fields and command, but no Change fields', () => {
    const read = {
      eventTime: '2024-03-01T10:00:00Z',
      eventSource: 's3.amazonaws.com',
      eventName: 'ListBuckets',
      readOnly: true,
      userIdentity: {
        type: 'AssumedRole',
        accountId: '1',
        arn: 'arn:aws:sts::1:assumed-role/Dev/sess',
        sessionContext: { sessionIssuer: { userName: 'Dev', type: 'Role' } },
      },
    };
    const { fields } = toCim(ct(read));
    expect(fields.action).toBe('read');
    expect(fields.user).toBe('Dev');
    expect(fields.command).toBe('ListBuckets');
    expect(fields.change_type).toBeUndefined();
    expect(fields.object_category).toBeUndefined();
  });

  it('names object, record and field when eventTime is missing or invalid', () => {
    const bad = { ...login, eventTime: 'yesterday' };
    expect(() => toCim(ct(bad, 42))).toThrowError(CimMapError);
    try {
      toCim(ct(bad, 42));
    } catch (err) {
      const e = err as CimMapError;
      expect(e.code).toBe('MAP_FAILED');
      expect(e.message).toContain('s3://trail-bucket/AWSLogs/x.json.gz record 42');
      expect(e.details).toMatchObject({ field: 'eventTime', record: 42, bucket: 'trail-bucket' });
    }
    const noName = { ...login, eventName: undefined };
    expect(() => toCim(ct(noName))).toThrowError(/eventName is missing/);
  });
});

describe.skipIf(!havePeer)('toCim — Elastic pipeline-test inputs and attack records (../shared/peer)', () => {
  const lines = (file: string): Record<string, unknown>[] =>
    readFileSync(path.join(peer, 'elastic', file), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('console logins: one success, two failures; assumed-role login takes the session name', () => {
    const out = lines('test-console-login-json.log').map((e, i) => toCim(ct(e, i + 1)).fields);
    expect(out.map((f) => f.action)).toEqual(['success', 'failure', 'failure']);
    expect(out[0]).toMatchObject({
      user: 'JohnDoe',
      authentication_method: 'SFA',
      signature: 'ConsoleLogin',
    });
    expect(out[2]?.user).toBeDefined();
  });

  it('AuthorizeSecurityGroupIngress: a modified security_group with inbound range, port protocol', () => {
    const [event] = lines('test-authorize-security-group-ingress-json.log');
    const { fields } = toCim(ct(event!));
    expect(fields).toMatchObject({
      action: 'modified',
      status: 'success',
      change_type: 'EC2',
      object: 'sg-0f63fecfa17ef4fee',
      object_id: 'sg-0f63fecfa17ef4fee',
      object_category: 'security_group',
      direction: 'Inbound',
      src_ip_range: '203.0.113.0/24',
      protocol: 'tcp',
      user: 'test@elastic.co',
      user_type: 'IAMUser',
    });
  });

  it('AssumeRole: user is the role session from the target role ARN; SFA from the session', () => {
    const [event] = lines('test-assume-role-json.log');
    const { fields } = toCim(ct(event!));
    expect(fields).toMatchObject({
      user: 'JohnRole2',
      authentication_method: 'SFA',
      user_type: 'AWS::IAM::Role',
      // The caller, a role session: its issuing role's name, id and identity type.
      src_user: 'JohnDoe',
      src_user_name: 'JohnDoe',
      src_user_id: 'AROAIN5ATK5U7KEXAMPLE:JohnRole1',
      src_user_type: 'AssumedRole',
    });
  });

  it('names no src_user where `user` is already the actor', () => {
    const [event] = lines('test-assume-role-json.log');
    const { fields } = toCim(
      ct({ ...event!, eventName: 'PutBucketPolicy', eventSource: 's3.amazonaws.com' }),
    );
    expect(fields.user).toBe('JohnDoe');
    expect(Object.keys(fields).filter((k) => k.startsWith('src_user'))).toEqual([]);
  });

  it('network ACL entries: direction, range, rule action and the IANA protocol number', () => {
    const entry = {
      eventTime: '2024-03-01T10:00:00Z',
      eventSource: 'ec2.amazonaws.com',
      eventName: 'CreateNetworkAclEntry',
      eventType: 'AwsApiCall',
      readOnly: false,
      awsRegion: 'us-east-1',
      userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'admin' },
      requestParameters: {
        networkAclId: 'acl-0123',
        ruleNumber: 100,
        egress: false,
        ruleAction: 'allow',
        protocol: '6',
        cidrBlock: '0.0.0.0/0',
        portRange: { from: 22, to: 22 },
      },
      responseElements: { _return: true },
    };
    const { fields } = toCim(ct(entry));
    expect(fields).toMatchObject({
      object_id: 'acl-0123',
      object_category: 'ACL',
      direction: 'Inbound',
      src_ip_range: '0.0.0.0/0',
      rule_action: 'allow',
      protocol_code: '6',
    });
  });

  it('StopLogging from a Stratus detonation: stopped trail', () => {
    const records = JSON.parse(
      readFileSync(path.join(peer, 'attacks', 'stratus_aws.defense-evasion.cloudtrail-stop.json'), 'utf8'),
    ) as Record<string, unknown>[];
    const stop = records.find((r) => r.eventName === 'StopLogging')!;
    const { fields } = toCim(ct(stop));
    expect(fields).toMatchObject({ action: 'stopped', change_type: 'CloudTrail', object_category: 'trail' });
    expect(typeof fields.object).toBe('string');
  });

  it('every attack record maps to flat indexed fields (HEC code 15 otherwise)', () => {
    const dir = path.join(peer, 'attacks');
    let count = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
      const parsed = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as
        | { Records: Record<string, unknown>[] }
        | Record<string, unknown>[];
      const records = Array.isArray(parsed) ? parsed : parsed.Records;
      for (const [i, r] of records.entries()) {
        const out = toCim(ct(r, i + 1));
        expect(flatOk(out.fields), `${file} #${i + 1}`).toBe(true);
        expect(out.fields.vendor_product).toBe('AWS CloudTrail');
        expect(out.fields.status).toMatch(/^(success|failure)$/);
        count++;
      }
    }
    expect(count).toBeGreaterThan(20);
  });

  it('VPC flow v2 samples: actions, IPv6, NODATA without addresses', () => {
    const raw = readFileSync(path.join(peer, 'elastic', 'test-extra-samples.log'), 'utf8')
      .split('\n')
      .filter((l) => /^\d/.test(l));
    const out = raw.map((l, i) => toCim(flow(l, V2, i + 1)));
    expect(out[0]?.fields).toMatchObject({
      action: 'allowed',
      protocol_version: 'IPV6',
      transport: 'tcp',
      dest_port: '22',
    });
    expect(out[1]?.fields.action).toBe('unknown');
    expect(out[1]?.fields.src_ip).toBeUndefined();
    expect(out.some((o) => o.fields.action === 'blocked')).toBe(true);
  });
});

describe('toCim — VPC flow (hand-built lines)', () => {
  const V5 = [
    ...V2,
    'vpc-id',
    'subnet-id',
    'instance-id',
    'tcp-flags',
    'type',
    'pkt-srcaddr',
    'pkt-dstaddr',
    'region',
    'az-id',
    'sublocation-type',
    'sublocation-id',
    'pkt-src-aws-service',
    'pkt-dst-aws-service',
    'flow-direction',
    'traffic-path',
  ];

  it('maps a v2 line to Network_Traffic, time from the flow end, event = the original line', () => {
    const line =
      '2 123456789010 eni-abc 10.0.0.5 198.51.100.1 49152 443 6 10 8400 1700000000 1700000060 ACCEPT OK';
    const out = toCim(flow(line));
    expect(out.time).toBe(1700000060);
    expect(out.event).toBe(line);
    expect(out.sourcetype).toBe('aws:cloudwatchlogs:vpcflow');
    expect(out.source).toBe('s3://flow-bucket/flows/a.log.gz');
    expect(out.fields).toMatchObject({
      action: 'allowed',
      vpcflow_action: 'ACCEPT',
      src_ip: '10.0.0.5',
      dest_ip: '198.51.100.1',
      src_port: '49152',
      dest_port: '443',
      protocol: 'ip',
      transport: 'tcp',
      protocol_code: '6',
      bytes: '8400',
      packets: '10',
      duration: '60',
      dvc: 'eni-abc',
      aws_account_id: '123456789010',
      vendor_product: 'AWS VPC Flow Logs',
    });
    expect(out.fields.direction).toBeUndefined();
    expect(out.fields.bytes_in).toBeUndefined();
    // HEC documents indexed field values as strings or lists of strings: nothing else goes.
    for (const value of Object.values(out.fields)) expect(typeof value).toBe('string');
  });

  it('uses flow-direction for direction and bytes_in/bytes_out (v5)', () => {
    const line =
      '5 1 eni-1 10.0.0.1 10.0.0.2 1 53 17 3 300 1700000000 1700000001 REJECT OK vpc-1 subnet-1 i-1 0 IPv4 10.0.0.1 10.0.0.2 eu-west-1 euw1-az1 - - - - egress 1';
    const { fields } = toCim(flow(line, V5));
    expect(fields).toMatchObject({
      action: 'blocked',
      transport: 'udp',
      direction: 'outbound',
      bytes_out: '300',
      packets_out: '3',
      vendor_region: 'eu-west-1',
    });
    expect(fields.bytes_in).toBeUndefined();
  });

  it('names the field when a number is not a number', () => {
    const line = '2 1 eni-1 10.0.0.1 10.0.0.2 x 53 17 3 300 1700000000 1700000001 ACCEPT OK';
    expect(() => toCim(flow(line, V2, 7))).toThrowError(/record 7: srcport "x" is not a whole number/);
  });
});
