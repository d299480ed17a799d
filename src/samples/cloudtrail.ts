import { SeededRandom } from './random.js';

type Json = Record<string, unknown>;

export interface CloudTrailSampleOptions {
  seed?: number;
  /** Number of ordinary (background) records. */
  count: number;
  accountId?: string;
  region?: string;
  /** First event time; events advance by a few seconds each. */
  start?: Date;
  /** Add the attack story: a failed console login burst, a success, StopLogging, a backdoor access key. */
  suspicious?: boolean;
}

const USER_AGENTS = [
  'aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#s3.ls',
  'Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#5.10.205 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.11',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
  'aws-sdk-js/3.600.0 ua/2.1 os/linux#5.10 lang/js md/nodejs#20.18.1 api/s3#3.600.0',
  'Terraform/1.9.5 (+https://www.terraform.io) terraform-provider-aws/5.70.0',
  'console.amazonaws.com',
  'AWS Internal',
];

const USERS = ['alice', 'bob', 'carol', 'deploy-bot', 'Zoë.Müller', '山田太郎'];
const ROLES = [
  'OrganizationAccountAccessRole',
  'lambda-exec',
  'ec2-app-role',
  'AWSReservedSSO_Admin_0123456789abcdef',
];

interface Template {
  source: string;
  name: string;
  readOnly: boolean;
  request?: (r: SeededRandom, ctx: Ctx) => Json | null;
  response?: (r: SeededRandom, ctx: Ctx) => Json | null;
  errors?: readonly string[];
  data?: boolean;
}

interface Ctx {
  account: string;
  region: string;
}

const TEMPLATES: readonly Template[] = [
  {
    source: 's3.amazonaws.com',
    name: 'GetObject',
    readOnly: true,
    data: true,
    request: (r) => ({
      bucketName: `app-data-${r.hex(6)}`,
      Host: 's3.amazonaws.com',
      key: `reports/2026/${r.hex(8)}.csv`,
    }),
    errors: ['AccessDenied', 'NoSuchKey'],
  },
  {
    source: 'ec2.amazonaws.com',
    name: 'DescribeInstances',
    readOnly: true,
    request: (r) => ({
      instancesSet: { items: [{ instanceId: `i-${r.hex(17)}` }] },
      filterSet: {},
    }),
    errors: ['Client.UnauthorizedOperation', 'RequestLimitExceeded'],
  },
  { source: 'sts.amazonaws.com', name: 'GetCallerIdentity', readOnly: true },
  {
    source: 'sts.amazonaws.com',
    name: 'AssumeRole',
    readOnly: true,
    request: (r, c) => ({
      roleArn: `arn:aws:iam::${c.account}:role/${r.pick(ROLES)}`,
      roleSessionName: `session-${r.hex(6)}`,
      durationSeconds: 3600,
    }),
    response: (r) => ({
      credentials: {
        accessKeyId: `ASIA${r.upper(16)}`,
        expiration: 'Nov 28, 2026, 11:00:00 AM',
        sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE',
      },
      assumedRoleUser: {
        assumedRoleId: `AROA${r.upper(17)}:session`,
        arn: 'arn:aws:sts::123456789012:assumed-role/x/session',
      },
    }),
  },
  {
    source: 'iam.amazonaws.com',
    name: 'ListUsers',
    readOnly: true,
    errors: ['AccessDenied'],
  },
  {
    source: 'iam.amazonaws.com',
    name: 'CreateUser',
    readOnly: false,
    request: (r) => ({ userName: `svc-${r.hex(5)}` }),
    response: (r, c) => ({
      user: {
        path: '/',
        userName: `svc-${r.hex(5)}`,
        userId: `AIDA${r.upper(17)}`,
        arn: `arn:aws:iam::${c.account}:user/svc`,
        createDate: 'Nov 28, 2026, 10:00:00 AM',
      },
    }),
  },
  {
    source: 'ec2.amazonaws.com',
    name: 'AuthorizeSecurityGroupIngress',
    readOnly: false,
    request: (r) => ({
      groupId: `sg-${r.hex(17)}`,
      ipPermissions: {
        items: [
          {
            ipProtocol: 'tcp',
            fromPort: r.pick([22, 443, 3389]),
            toPort: 443,
            groups: {},
            ipRanges: { items: [{ cidrIp: r.pick(['0.0.0.0/0', '10.0.0.0/8']) }] },
            ipv6Ranges: {},
            prefixListIds: {},
          },
        ],
      },
    }),
    response: (r) => ({ _return: true, requestId: r.uuid() }),
  },
  {
    source: 'kms.amazonaws.com',
    name: 'Decrypt',
    readOnly: true,
    request: () => ({
      encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      encryptionContext: { 'aws:lambda:FunctionArn': 'fn' },
    }),
  },
  {
    source: 'lambda.amazonaws.com',
    name: 'Invoke',
    readOnly: false,
    data: true,
    request: (r, c) => ({
      functionName: `arn:aws:lambda:${c.region}:${c.account}:function:handler-${r.hex(4)}`,
    }),
  },
];

/**
 * Realistic synthetic CloudTrail records: several identity types (IAM user, assumed role, AWS service,
 * root), CLI/SDK/browser agents, IPv4, IPv6 and service-name sources, errors, unicode names, TLS details,
 * resources, and optionally the suspicious events a detection should catch. Deterministic for a seed.
 */
export function generateCloudTrailRecords(options: CloudTrailSampleOptions): Json[] {
  const r = new SeededRandom(options.seed ?? 1);
  const ctx: Ctx = { account: options.accountId ?? '123456789012', region: options.region ?? 'us-east-1' };
  let time = (options.start ?? new Date('2026-11-28T10:00:00Z')).getTime();
  const tick = (): string => {
    time += r.int(1, 4) * 1000;
    return new Date(time).toISOString().replace('.000Z', 'Z');
  };
  const records: Json[] = [];
  for (let i = 0; i < options.count; i++) records.push(backgroundRecord(r, ctx, tick()));
  if (options.suspicious) {
    const attacker = '203.0.113.66';
    for (let i = 0; i < 12; i++)
      records.push(consoleLogin(r, ctx, tick(), attacker, i % 3 === 0 ? 'root' : 'alice', false));
    records.push(consoleLogin(r, ctx, tick(), attacker, 'alice', true));
    records.push(stopLogging(r, ctx, tick(), attacker));
    records.push(createAccessKey(r, ctx, tick(), attacker));
  }
  return records;
}

/** The text of a CloudTrail S3 object (`{"Records":[...]}`) as CloudTrail writes it. */
export function cloudTrailObjectText(records: readonly Json[]): string {
  return `{"Records":[${records.map((rec) => JSON.stringify(rec)).join(',')}]}`;
}

/**
 * A large CloudTrail object as a stream of chunks, generated on the fly so a 200 MB object never exists
 * in memory at once. Stops after the first record that reaches `targetBytes`.
 */
export function* cloudTrailObjectChunks(options: { seed?: number; targetBytes: number }): Generator<Buffer> {
  const r = new SeededRandom(options.seed ?? 7);
  const ctx: Ctx = { account: '123456789012', region: 'us-east-1' };
  let time = Date.parse('2026-11-28T00:00:00Z');
  let written = 0;
  let first = true;
  yield Buffer.from('{"Records":[');
  while (written < options.targetBytes) {
    const parts: string[] = [];
    for (let i = 0; i < 200; i++) {
      time += 1000;
      parts.push(
        JSON.stringify(backgroundRecord(r, ctx, new Date(time).toISOString().replace('.000Z', 'Z'))),
      );
    }
    const chunk = Buffer.from((first ? '' : ',') + parts.join(','));
    first = false;
    written += chunk.length;
    yield chunk;
  }
  yield Buffer.from(']}');
}

function identity(r: SeededRandom, ctx: Ctx): { identity: Json; agent: string; ip: string } {
  const kind = r.int(0, 9);
  if (kind <= 3) {
    const name = r.pick(USERS);
    return {
      identity: {
        type: 'IAMUser',
        principalId: `AIDA${r.upper(17)}`,
        arn: `arn:aws:iam::${ctx.account}:user/${name}`,
        accountId: ctx.account,
        accessKeyId: `AKIA${r.upper(16)}`,
        userName: name,
      },
      agent: r.pick(USER_AGENTS.slice(0, 6)),
      ip: r.chance(0.15) ? r.ipv6() : r.publicIpv4(),
    };
  }
  if (kind <= 7) {
    const role = r.pick(ROLES);
    const roleId = `AROA${r.upper(17)}`;
    return {
      identity: {
        type: 'AssumedRole',
        principalId: `${roleId}:session-${r.hex(6)}`,
        arn: `arn:aws:sts::${ctx.account}:assumed-role/${role}/session`,
        accountId: ctx.account,
        accessKeyId: `ASIA${r.upper(16)}`,
        sessionContext: {
          sessionIssuer: {
            type: 'Role',
            principalId: roleId,
            arn: `arn:aws:iam::${ctx.account}:role/${role}`,
            accountId: ctx.account,
            userName: role,
          },
          webIdFederationData: {},
          attributes: { creationDate: '2026-11-28T09:00:00Z', mfaAuthenticated: r.pick(['true', 'false']) },
        },
      },
      agent: r.pick(USER_AGENTS),
      ip: r.chance(0.3) ? r.privateIpv4() : r.publicIpv4(),
    };
  }
  if (kind === 8) {
    return {
      identity: { type: 'AWSService', invokedBy: 'ec2.amazonaws.com' },
      agent: 'ec2.amazonaws.com',
      ip: 'ec2.amazonaws.com',
    };
  }
  return {
    identity: {
      type: 'Root',
      principalId: ctx.account,
      arn: `arn:aws:iam::${ctx.account}:root`,
      accountId: ctx.account,
      accessKeyId: `ASIA${r.upper(16)}`,
    },
    agent: USER_AGENTS[2]!,
    ip: r.publicIpv4(),
  };
}

function backgroundRecord(r: SeededRandom, ctx: Ctx, time: string): Json {
  const t = r.pick(TEMPLATES);
  const who = identity(r, ctx);
  const failed = t.errors !== undefined && r.chance(0.08);
  const rec: Json = {
    eventVersion: t.data ? '1.10' : '1.09',
    userIdentity: who.identity,
    eventTime: time,
    eventSource: t.source,
    eventName: t.name,
    awsRegion: ctx.region,
    sourceIPAddress: who.ip,
    userAgent: who.agent,
  };
  if (failed) {
    rec.errorCode = r.pick(t.errors!);
    rec.errorMessage = `User: ${String((who.identity as Json).arn ?? 'unknown')} is not authorized to perform: ${t.source.split('.')[0]}:${t.name}`;
  }
  rec.requestParameters = t.request ? t.request(r, ctx) : null;
  rec.responseElements = !failed && t.response ? t.response(r, ctx) : null;
  rec.requestID = r.uuid();
  rec.eventID = r.uuid();
  rec.readOnly = t.readOnly;
  if (t.data) {
    rec.resources = [{ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::app-data/${r.hex(8)}` }];
  }
  rec.eventType = 'AwsApiCall';
  rec.managementEvent = !t.data;
  rec.recipientAccountId = ctx.account;
  rec.eventCategory = t.data ? 'Data' : 'Management';
  if (who.ip !== 'ec2.amazonaws.com') {
    rec.tlsDetails = {
      tlsVersion: r.pick(['TLSv1.2', 'TLSv1.3']),
      cipherSuite: r.pick(['ECDHE-RSA-AES128-GCM-SHA256', 'TLS_AES_128_GCM_SHA256']),
      clientProvidedHostHeader: `${t.source.split('.')[0]}.${ctx.region}.amazonaws.com`,
    };
  }
  return rec;
}

function consoleLogin(
  r: SeededRandom,
  ctx: Ctx,
  time: string,
  ip: string,
  who: string,
  success: boolean,
): Json {
  const root = who === 'root';
  return {
    eventVersion: '1.09',
    userIdentity: root
      ? {
          type: 'Root',
          principalId: ctx.account,
          arn: `arn:aws:iam::${ctx.account}:root`,
          accountId: ctx.account,
        }
      : {
          type: 'IAMUser',
          principalId: `AIDA${r.upper(17)}`,
          arn: `arn:aws:iam::${ctx.account}:user/${who}`,
          accountId: ctx.account,
          userName: who,
        },
    eventTime: time,
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    awsRegion: ctx.region,
    sourceIPAddress: ip,
    userAgent: USER_AGENTS[3],
    ...(success ? {} : { errorMessage: 'Failed authentication' }),
    requestParameters: null,
    responseElements: { ConsoleLogin: success ? 'Success' : 'Failure' },
    additionalEventData: {
      LoginTo: 'https://console.aws.amazon.com/console/home',
      MobileVersion: 'No',
      MFAUsed: 'No',
    },
    eventID: r.uuid(),
    readOnly: false,
    eventType: 'AwsConsoleSignIn',
    managementEvent: true,
    recipientAccountId: ctx.account,
    eventCategory: 'Management',
    tlsDetails: {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: 'signin.aws.amazon.com',
    },
  };
}

function attackerIdentity(r: SeededRandom, ctx: Ctx): Json {
  return {
    type: 'IAMUser',
    principalId: `AIDA${r.upper(17)}`,
    arn: `arn:aws:iam::${ctx.account}:user/alice`,
    accountId: ctx.account,
    accessKeyId: `ASIA${r.upper(16)}`,
    userName: 'alice',
    sessionContext: { attributes: { creationDate: '2026-11-28T10:00:00Z', mfaAuthenticated: 'false' } },
  };
}

function stopLogging(r: SeededRandom, ctx: Ctx, time: string, ip: string): Json {
  return {
    eventVersion: '1.09',
    userIdentity: attackerIdentity(r, ctx),
    eventTime: time,
    eventSource: 'cloudtrail.amazonaws.com',
    eventName: 'StopLogging',
    awsRegion: ctx.region,
    sourceIPAddress: ip,
    userAgent: USER_AGENTS[2],
    requestParameters: { name: `arn:aws:cloudtrail:${ctx.region}:${ctx.account}:trail/management-events` },
    responseElements: null,
    requestID: r.uuid(),
    eventID: r.uuid(),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ctx.account,
    eventCategory: 'Management',
    sessionCredentialFromConsole: 'true',
  };
}

function createAccessKey(r: SeededRandom, ctx: Ctx, time: string, ip: string): Json {
  return {
    eventVersion: '1.09',
    userIdentity: attackerIdentity(r, ctx),
    eventTime: time,
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateAccessKey',
    awsRegion: 'us-east-1',
    sourceIPAddress: ip,
    userAgent: USER_AGENTS[0],
    requestParameters: { userName: 'deploy-bot' },
    responseElements: {
      accessKey: {
        userName: 'deploy-bot',
        accessKeyId: `AKIA${r.upper(16)}`,
        status: 'Active',
        createDate: 'Nov 28, 2026, 10:30:00 AM',
      },
    },
    requestID: r.uuid(),
    eventID: r.uuid(),
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ctx.account,
    eventCategory: 'Management',
  };
}
