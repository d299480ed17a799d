import { isIP } from 'node:net';
import type { FlowFields, RecordOrigin } from '../../types.js';
import { flowRegionOfKey } from '../flow-region.js';
import { isWholeNumber } from '../whole-number.js';
import { elasticCommunityId } from './community-id.js';
import { EcsMapError } from './errors.js';
import { hasKeys } from './objects.js';
import { FLOW_NUMBER_FIELDS, TCP_FLAGS, TRANSPORTS } from './tables.js';
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

/** Beyond these a port or an IANA protocol number is nonsense that a document must not carry. */
const MAX_PORT = 65535;
const MAX_PROTOCOL = 255;

/** Consumed number fields that only traffic records parse (NODATA/SKIPDATA lines check them apart). */
const TRAFFIC_NUMBERS: readonly [string, number][] = [
  ['srcport', MAX_PORT],
  ['dstport', MAX_PORT],
  ['protocol', MAX_PROTOCOL],
  ['packets', Number.MAX_SAFE_INTEGER],
  ['bytes', Number.MAX_SAFE_INTEGER],
];

/**
 * Where a flow field goes under aws.vpcflow: nowhere (consumed by a top-level field), a key, or a key
 * under a parent; and whether its text must be checked as a whole number on the way (number fields
 * that are not consumed: those consumed are checked where they are parsed). Decided once per field
 * name, since every line of an object repeats the same names.
 */
type FlowTarget = null | string | [string, string];
interface FlowField {
  target: FlowTarget;
  number: boolean;
}
const flowFields = new Map<string, FlowField>();

function flowField(name: string): FlowField {
  let field = flowFields.get(name);
  if (field === undefined) {
    const consumed = CONSUMED.has(name);
    field = {
      target: consumed ? null : (RENAMED[name] ?? name.replaceAll('-', '_')),
      number: !consumed && FLOW_NUMBER_FIELDS.has(name),
    };
    // Names come from the objects' header lines: bounded, should an odd source invent new ones.
    if (flowFields.size >= 1000) flowFields.clear();
    flowFields.set(name, field);
  }
  return field;
}

/**
 * One VPC flow record → the ECS document of Elastic's AWS integration (vpcflow data stream). NODATA and
 * SKIPDATA records describe an interval without (recorded) traffic: they keep their status, interface and
 * times, and carry no source/destination/network fields. `-` never reaches the document (Elastic leaks it
 * into cloud.region / cloud.availability_zone; we do not).
 *
 * Throws EcsMapError for a start or end that is not a time, or a number field that is not a whole number:
 * dropping the field silently would index a record that looks complete but is not. A line with neither
 * start nor end (layouts without times) is stamped with the time it is mapped, as Elastic's pipeline does.
 */
export function vpcflowToEcs(
  fields: FlowFields,
  line: string,
  origin: RecordOrigin,
  options: EcsMapOptions = {},
): EcsDocument {
  const doc: EcsDocument = {};
  const event: Json = { kind: 'event', category: ['network'], type: ['connection'] };
  const cloud: Json = { provider: 'aws' };
  const flow: Json = {};

  // Both are checked even when end alone decides @timestamp, as the CIM mapper does.
  const end = epoch(fields.end, 'end', origin);
  const start = epoch(fields.start, 'start', origin);
  if (end) {
    doc['@timestamp'] = end;
    event.end = end;
  } else if (start) {
    doc['@timestamp'] = start;
  } else {
    // Elastic's 6- and 17-token layouts carry no times; its pipeline keeps the time the line was read as
    // @timestamp, and so does this (the document id stays deterministic: object key and line number).
    doc['@timestamp'] = new Date().toISOString();
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

  if (traffic) mapTraffic(fields, origin, doc, options);
  // AWS writes `-` there; a value that is present must still be a number, as for the CIM mapper.
  else for (const [name, max] of TRAFFIC_NUMBERS) whole(fields, name, origin, max);

  if (fields['account-id']) cloud.account = { id: fields['account-id'] };
  if (fields['instance-id']) cloud.instance = { id: fields['instance-id'] };
  const region = fields.region ?? flowRegionOfKey(origin.key);
  if (region) cloud.region = region;
  if (fields['az-id']) cloud.availability_zone = fields['az-id'];

  for (const name in fields) {
    const value = fields[name];
    if (value === undefined) continue;
    const field = flowField(name);
    const target = field.target;
    if (target === null) continue;
    if (field.number && !isWholeNumber(value)) throw notWhole(name, value, origin);
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
    // A whole number: checked in the loop above.
    const bits = Number(tcpFlags);
    const names = TCP_FLAGS.filter((f) => (bits & f.bit) !== 0).map((f) => f.name);
    if (names.length > 0) flow.tcp_flags_array = names;
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
  return doc;
}

function mapTraffic(
  fields: FlowFields,
  origin: RecordOrigin,
  doc: EcsDocument,
  options: EcsMapOptions,
): void {
  const network: Json = {};
  const src = fields.srcaddr;
  const dst = fields.dstaddr;
  const srcPort = whole(fields, 'srcport', origin, MAX_PORT);
  const dstPort = whole(fields, 'dstport', origin, MAX_PORT);
  const source: Json = {};
  const destination: Json = {};
  if (src) endpoint(source, src, srcPort, options);
  else if (srcPort !== undefined) source.port = srcPort;
  if (dst) endpoint(destination, dst, dstPort, options);
  else if (dstPort !== undefined) destination.port = dstPort;

  const protocol = fields.protocol;
  const protocolNumber = whole(fields, 'protocol', origin, MAX_PROTOCOL);
  if (protocol !== undefined) {
    network.iana_number = protocol;
    const transport = TRANSPORTS.get(protocol);
    if (transport) network.transport = transport;
  }
  const packets = whole(fields, 'packets', origin, Number.MAX_SAFE_INTEGER);
  const bytes = whole(fields, 'bytes', origin, Number.MAX_SAFE_INTEGER);
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
  if (srcIp && dstIp && protocolNumber !== undefined) {
    const id = elasticCommunityId(srcIp, srcPort, dstIp, dstPort, protocolNumber);
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

/** A consumed number field: absent (`-`), its value, or EcsMapError naming it when not a whole number up to `max`. */
function whole(fields: FlowFields, name: string, origin: RecordOrigin, max: number): number | undefined {
  const value = fields[name];
  if (value === undefined) return undefined;
  if (!isWholeNumber(value)) throw notWhole(name, value, origin);
  const n = Number(value);
  if (n > max)
    throw new EcsMapError(`${name} "${value}" is out of range (at most ${max})`, origin, name, 'line');
  return n;
}

function notWhole(name: string, value: string, origin: RecordOrigin): EcsMapError {
  // The CIM mapper's words for the same fault, so both schemas report a line alike.
  const what = name === 'protocol' ? 'an IANA protocol number' : 'a whole number';
  return new EcsMapError(`${name} "${value}" is not ${what}`, origin, name, 'line');
}

/** Epoch seconds `new Date` can still represent (±8.64e15 ms). */
const MAX_EPOCH_SECONDS = 8.64e12;

/** Flows of one object share a few aggregation-interval boundaries, so their ISO forms are reused. */
const epochCache = new Map<string, string>();

function epoch(value: string | undefined, name: 'start' | 'end', origin: RecordOrigin): string | undefined {
  if (value === undefined) return undefined;
  let iso = epochCache.get(value);
  if (iso !== undefined) return iso;
  if (!isWholeNumber(value)) throw notWhole(name, value, origin);
  const seconds = Number(value);
  if (seconds > MAX_EPOCH_SECONDS) {
    throw new EcsMapError(`${name} "${value}" is out of range for a timestamp`, origin, name, 'line');
  }
  iso = new Date(seconds * 1000).toISOString();
  if (epochCache.size >= 4096) epochCache.clear();
  epochCache.set(value, iso);
  return iso;
}
