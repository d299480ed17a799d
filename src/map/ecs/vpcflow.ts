import { isIP } from 'node:net';
import type { RecordOrigin } from '../../types.js';
import { objectUrl } from '../object-url.js';
import { communityId } from './community-id.js';
import { hasKeys } from './objects.js';
import { TCP_FLAGS, TRANSPORTS } from './tables.js';
import { ECS_VERSION, type EcsDocument, type EcsMapOptions } from './types.js';

type Json = Record<string, unknown>;

/** Flow fields that become top-level ECS fields and are not repeated under aws.vpcflow (as in Elastic). */
const CONSUMED = new Set([
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'region',
  'az-id',
  'flow-direction',
  'reject-reason',
  'ecs-cluster-arn',
  'ecs-cluster-name',
  'ecs-container-instance-arn',
  'ecs-container-instance-id',
  'ecs-service-name',
]);

/** Names under aws.vpcflow where Elastic's differs from the field name with `-` → `_`. */
const RENAMED: Record<string, string | [string, string]> = {
  'pkt-src-aws-service': 'pkt_src_service',
  'pkt-dst-aws-service': 'pkt_dst_service',
  'sublocation-type': ['sublocation', 'type'],
  'sublocation-id': ['sublocation', 'id'],
};

/**
 * Where a flow field goes under aws.vpcflow: nowhere (consumed by a top-level field), a key, or a key
 * under a parent. Decided once per field name, since every line of an object repeats the same names.
 */
type FlowTarget = null | string | [string, string];
const targets = new Map<string, FlowTarget>();

function targetOf(name: string): FlowTarget {
  let target = targets.get(name);
  if (target === undefined) {
    target = CONSUMED.has(name) ? null : (RENAMED[name] ?? name.replaceAll('-', '_'));
    targets.set(name, target);
  }
  return target;
}

/**
 * One VPC flow record → the ECS document of Elastic's AWS integration (vpcflow data stream). NODATA and
 * SKIPDATA records describe an interval without (recorded) traffic: they keep their status, interface and
 * times, and carry no source/destination/network fields. `-` never reaches the document (Elastic leaks it
 * into cloud.region / cloud.availability_zone; we do not).
 */
export function vpcflowToEcs(
  fields: Record<string, string>,
  line: string,
  origin: RecordOrigin,
  options: EcsMapOptions = {},
): EcsDocument {
  const doc: EcsDocument = {};
  const event: Json = { kind: 'event', category: ['network'], type: ['connection'] };
  const cloud: Json = { provider: 'aws' };
  const flow: Json = {};

  const end = epoch(fields.end);
  const start = epoch(fields.start);
  if (end) {
    doc['@timestamp'] = end;
    event.end = end;
  } else if (start) {
    doc['@timestamp'] = start;
  }
  if (start) event.start = start;

  const status = fields['log-status'];
  const traffic = status !== 'NODATA' && status !== 'SKIPDATA';

  const action = fields.action;
  if (action === 'ACCEPT') {
    event.action = action;
    event.outcome = 'success';
    (event.type as string[]).push('allowed');
  } else if (action === 'REJECT') {
    event.action = action;
    event.outcome = 'failure';
    (event.type as string[]).push('denied');
  }
  if (fields['reject-reason']) event.reason = fields['reject-reason'];

  if (traffic) mapTraffic(fields, doc, options);

  if (fields['account-id']) cloud.account = { id: fields['account-id'] };
  if (fields['instance-id']) cloud.instance = { id: fields['instance-id'] };
  if (fields.region) cloud.region = fields.region;
  if (fields['az-id']) cloud.availability_zone = fields['az-id'];

  for (const name in fields) {
    const target = targetOf(name);
    if (target === null) continue;
    const value = fields[name]!;
    if (typeof target === 'string') {
      flow[target] = value;
    } else {
      const parent = (flow[target[0]] as Json | undefined) ?? {};
      parent[target[1]] = value;
      flow[target[0]] = parent;
    }
  }
  const tcpFlags = fields['tcp-flags'];
  if (tcpFlags !== undefined) {
    const bits = Number.parseInt(tcpFlags, 10);
    if (Number.isInteger(bits)) {
      const names = TCP_FLAGS.filter((f) => (bits & f.bit) !== 0).map((f) => f.name);
      if (names.length > 0) flow.tcp_flags_array = names;
    }
  }

  const orchestrator: Json = {};
  if (fields['ecs-cluster-arn'] || fields['ecs-cluster-name']) {
    const cluster: Json = {};
    if (fields['ecs-cluster-arn']) cluster.id = fields['ecs-cluster-arn'];
    if (fields['ecs-cluster-name']) cluster.name = fields['ecs-cluster-name'];
    orchestrator.cluster = cluster;
  }
  if (fields['ecs-container-instance-arn'] || fields['ecs-container-instance-id']) {
    const resource: Json = {};
    if (fields['ecs-container-instance-id']) resource.id = fields['ecs-container-instance-id'];
    if (fields['ecs-container-instance-arn']) resource.name = fields['ecs-container-instance-arn'];
    orchestrator.resource = resource;
  }

  event.dataset = 'aws.vpcflow';
  event.module = 'aws';
  if (options.includeOriginal) event.original = line;
  doc.ecs = { version: ECS_VERSION };
  doc.data_stream = { type: 'logs', dataset: 'aws.vpcflow', namespace: options.namespace ?? 'default' };
  doc.event = event;
  doc.cloud = cloud;
  if (hasKeys(orchestrator)) doc.orchestrator = orchestrator;
  if (fields['ecs-service-name']) doc.service = { name: fields['ecs-service-name'] };
  doc.aws = { vpcflow: flow };
  doc.log = { file: { path: objectUrl(origin) } };
  return doc;
}

function mapTraffic(fields: Record<string, string>, doc: EcsDocument, options: EcsMapOptions): void {
  const network: Json = {};
  const src = fields.srcaddr;
  const dst = fields.dstaddr;
  const srcPort = port(fields.srcport);
  const dstPort = port(fields.dstport);
  const source: Json = {};
  const destination: Json = {};
  if (src) endpoint(source, src, srcPort, options);
  else if (srcPort !== undefined) source.port = srcPort;
  if (dst) endpoint(destination, dst, dstPort, options);
  else if (dstPort !== undefined) destination.port = dstPort;

  const protocol = fields.protocol;
  if (protocol !== undefined) {
    network.iana_number = protocol;
    const transport = TRANSPORTS.get(protocol);
    if (transport) network.transport = transport;
  }
  const packets = count(fields.packets);
  const bytes = count(fields.bytes);
  // Elastic attributes the flow's totals to its source as well as to the network.
  if (bytes !== undefined) {
    source.bytes = bytes;
    network.bytes = bytes;
  }
  if (packets !== undefined) {
    source.packets = packets;
    network.packets = packets;
  }
  const srcIp = source.ip as string | undefined;
  const dstIp = destination.ip as string | undefined;
  if (srcIp) network.type = srcIp.includes(':') ? 'ipv6' : 'ipv4';
  const direction = fields['flow-direction'];
  if (direction === 'ingress' || direction === 'egress') network.direction = direction;
  if (srcIp && dstIp && srcPort !== undefined && dstPort !== undefined && protocol !== undefined) {
    const id = communityId(srcIp, srcPort, dstIp, dstPort, Number(protocol));
    if (id) network.community_id = id;
  }
  if (hasKeys(source)) doc.source = source;
  if (hasKeys(destination)) doc.destination = destination;
  if (hasKeys(network)) doc.network = network;
  if (srcIp && dstIp) doc.related = { ip: srcIp === dstIp ? [srcIp] : [srcIp, dstIp] };
}

function endpoint(target: Json, address: string, p: number | undefined, options: EcsMapOptions): void {
  target.address = address;
  if (isIP(address) !== 0) {
    target.ip = address;
    const geo = options.geoip?.lookup(address);
    if (geo?.geo) target.geo = geo.geo;
    if (geo?.as) target.as = geo.as;
  }
  if (p !== undefined) target.port = p;
}

function port(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

function count(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Flows of one object share a few aggregation-interval boundaries, so their ISO forms are reused. */
const epochCache = new Map<string, string | undefined>();

function epoch(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (epochCache.has(value)) return epochCache.get(value);
  const n = Number(value);
  let iso: string | undefined;
  if (Number.isFinite(n) && n >= 0) {
    const d = new Date(n * 1000);
    iso = Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  if (epochCache.size >= 4096) epochCache.clear();
  epochCache.set(value, iso);
  return iso;
}
