import { SeededRandom } from './random.js';

/** AWS's default format (version 2). */
export const DEFAULT_FLOW_FIELDS = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
] as const;

const V3 = ['vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr'];
const V4 = ['region', 'az-id', 'sublocation-type', 'sublocation-id'];
const V5 = ['pkt-src-aws-service', 'pkt-dst-aws-service', 'flow-direction', 'traffic-path'];
const V7 = [
  'ecs-cluster-arn',
  'ecs-cluster-name',
  'ecs-container-instance-arn',
  'ecs-container-instance-id',
  'ecs-container-id',
  'ecs-second-container-id',
  'ecs-service-name',
  'ecs-task-definition-arn',
  'ecs-task-arn',
  'ecs-task-id',
];
const V8 = ['reject-reason'];

/** Every field up to a version, in AWS's documented order (the "all fields" custom format). */
export function flowFieldsForVersion(version: number): string[] {
  const fields: string[] = [...DEFAULT_FLOW_FIELDS];
  if (version >= 3) fields.push(...V3);
  if (version >= 4) fields.push(...V4);
  if (version >= 5) fields.push(...V5);
  if (version >= 7) fields.push(...V7);
  if (version >= 8) fields.push(...V8);
  return fields;
}

export interface FlowSampleOptions {
  seed?: number;
  count: number;
  /** Format version; the field list defaults to every field up to it. */
  version?: number;
  /** A custom field order (any subset, any order), as a custom flow log format allows. */
  fields?: readonly string[];
  /** Write the header line S3 delivery writes (default true). */
  header?: boolean;
  accountId?: string;
  start?: Date;
  /** Share of lines that are NODATA / SKIPDATA (default 0.03). */
  idleShare?: number;
  /** Add a port scan from one address (many REJECTs to sequential ports). */
  suspicious?: boolean;
}

const SERVICES = ['AMAZON', 'S3', 'EC2', 'DYNAMODB', 'CLOUDFRONT', 'ROUTE53'];

/** Realistic VPC flow log lines for one interface set; deterministic for a seed. */
export function generateFlowLines(options: FlowSampleOptions): string[] {
  const r = new SeededRandom(options.seed ?? 2);
  const version = options.version ?? 2;
  const names = options.fields ?? (version === 2 ? [...DEFAULT_FLOW_FIELDS] : flowFieldsForVersion(version));
  const account = options.accountId ?? '123456789012';
  let time = Math.floor((options.start ?? new Date('2026-11-28T10:00:00Z')).getTime() / 1000);
  const lines: string[] = [];
  if (options.header ?? true) lines.push(names.join(' '));
  const enis = Array.from({ length: 4 }, () => `eni-${r.hex(17)}`);
  const instances = Array.from({ length: 4 }, () => `i-${r.hex(17)}`);
  const idle = options.idleShare ?? 0.03;
  const row = (values: Record<string, string>): string => names.map((n) => values[n] ?? '-').join(' ');
  for (let i = 0; i < options.count; i++) {
    time += r.int(0, 2);
    const which = r.int(0, enis.length - 1);
    const status = r.chance(idle) ? r.pick(['NODATA', 'SKIPDATA']) : 'OK';
    const base: Record<string, string> = {
      version: String(version),
      'account-id': account,
      'interface-id': enis[which]!,
      start: String(time),
      end: String(time + r.int(5, 60)),
      'log-status': status,
      'vpc-id': 'vpc-0a1b2c3d4e5f60718',
      'subnet-id': `subnet-${r.pick(['0aa11bb22cc33dd44', '0ee55ff6600aa11bb'])}`,
      'instance-id': instances[which]!,
      region: 'us-east-1',
      'az-id': r.pick(['use1-az1', 'use1-az2']),
    };
    if (status !== 'OK') {
      lines.push(row(base));
      continue;
    }
    const v6 = r.chance(0.1);
    const inbound = r.chance(0.5);
    const local = v6 ? '2001:db8:10::a' : r.privateIpv4();
    const remote = v6 ? r.ipv6() : r.chance(0.6) ? r.publicIpv4() : r.privateIpv4();
    const protocol = r.pick(['6', '6', '6', '17', '17', '1']);
    const service = r.pick([443, 443, 80, 22, 53, 3306, 5432, 8080]);
    const ephemeral = r.int(1024, 65535);
    const icmp = protocol === '1';
    const accept = r.chance(0.85);
    const packets = r.int(1, 500);
    Object.assign(base, {
      srcaddr: inbound ? remote : local,
      dstaddr: inbound ? local : remote,
      srcport: icmp ? '0' : String(inbound ? ephemeral : service),
      dstport: icmp ? '0' : String(inbound ? service : ephemeral),
      protocol,
      packets: String(packets),
      bytes: String(packets * r.int(40, 1500)),
      action: accept ? 'ACCEPT' : 'REJECT',
      'tcp-flags': protocol === '6' ? r.pick(['2', '18', '19', '3', '1', '4']) : '0',
      type: v6 ? 'IPv6' : 'IPv4',
      'pkt-srcaddr': inbound ? remote : local,
      'pkt-dstaddr': inbound ? local : remote,
      'pkt-src-aws-service': inbound && r.chance(0.2) ? r.pick(SERVICES) : '-',
      'pkt-dst-aws-service': !inbound && r.chance(0.2) ? r.pick(SERVICES) : '-',
      'flow-direction': inbound ? 'ingress' : 'egress',
      'traffic-path': inbound ? '-' : String(r.int(1, 8)),
      'ecs-cluster-arn': `arn:aws:ecs:us-east-1:${account}:cluster/web`,
      'ecs-cluster-name': 'web',
      'ecs-container-instance-arn': `arn:aws:ecs:us-east-1:${account}:container-instance/web/${r.hex(32)}`,
      'ecs-container-instance-id': r.hex(32),
      'ecs-container-id': r.hex(12),
      'ecs-second-container-id': '-',
      'ecs-service-name': 'frontend',
      'ecs-task-definition-arn': `arn:aws:ecs:us-east-1:${account}:task-definition/frontend:7`,
      'ecs-task-arn': `arn:aws:ecs:us-east-1:${account}:task/web/${r.hex(32)}`,
      'ecs-task-id': r.hex(32),
      'reject-reason': !accept && r.chance(0.3) ? 'BPA' : '-',
    });
    lines.push(row(base));
  }
  if (options.suspicious) {
    const scanner = '198.51.100.77';
    for (let p = 20; p < 45; p++) {
      time += 1;
      lines.push(
        row({
          version: String(version),
          'account-id': account,
          'interface-id': enis[0]!,
          srcaddr: scanner,
          dstaddr: '10.0.1.15',
          srcport: '51515',
          dstport: String(p),
          protocol: '6',
          packets: '1',
          bytes: '44',
          start: String(time),
          end: String(time + 1),
          action: 'REJECT',
          'log-status': 'OK',
          'tcp-flags': '2',
          'flow-direction': 'ingress',
          type: 'IPv4',
        }),
      );
    }
  }
  return lines;
}

/** A large flow log object as chunks generated on the fly (memory stays flat however large). */
export function* flowObjectChunks(options: {
  seed?: number;
  targetBytes: number;
  version?: number;
}): Generator<Buffer> {
  let written = 0;
  let seed = options.seed ?? 11;
  let first = true;
  while (written < options.targetBytes) {
    const lines = generateFlowLines({
      seed: seed++,
      count: 2000,
      version: options.version ?? 5,
      header: first,
      start: new Date(Date.parse('2026-11-28T00:00:00Z') + seed * 60_000),
    });
    first = false;
    const chunk = Buffer.from(`${lines.join('\n')}\n`);
    written += chunk.length;
    yield chunk;
  }
}
