import { epochMs, type Json, obj, text } from './ocsf-values.js';
import { FLOW_FIELDS } from './tables.js';
import { type FlowEvent, flowRecord } from './vpcflow.js';

/**
 * VPC flow records as Amazon Security Lake stores them: OCSF 1.1 Network Activity (class 4001), turned back
 * into the flow record they were made from, following AWS's VPC Flow Logs → OCSF field table, so the ECS
 * and CIM mappings and the detection rules work on them as on a flow log's own lines. The table moves some
 * fields by condition, and the reverse follows it:
 * - the interface, VPC, subnet and instance are the destination's for ingress traffic, else the source's;
 * - where a packet address differs from the interface's (`pkt-srcaddr` ≠ `srcaddr`), the endpoint's `ip`
 *   is the packet's and the interface's is its first intermediate address;
 * - ACCEPT / REJECT are `action_id` 1 / 2 (or `disposition_id`), ingress / egress `direction_id` 1 / 2,
 *   and `traffic-path` N is the OCSF boundary N + 3 (same VPC, gateway, virtual private gateway, …).
 * Fields the table leaves out (sublocation, ECS task, reject reason) come back from OCSF's `unmapped`.
 */

/** Every field a VPC flow log can carry, in AWS's order (Transit Gateway flow fields are not VPC ones). */
const LAYOUT: readonly string[] = [...FLOW_FIELDS.keys()].filter(
  (name) => !name.startsWith('tgw-') && !name.startsWith('packets-lost-') && name !== 'resource-type',
);
const LAYOUT_INDEX = new Map(LAYOUT.map((name, i) => [name, i]));

/** Epoch seconds, as flow logs write `start` and `end`, from OCSF's milliseconds or timestamp. */
function seconds(value: unknown): string | undefined {
  const ms = epochMs(value);
  return Number.isFinite(ms) ? String(Math.floor(ms / 1000)) : undefined;
}

function actionOf(event: Json): string | undefined {
  const id = Number(event.action_id ?? event.disposition_id);
  if (id === 1) return 'ACCEPT';
  if (id === 2) return 'REJECT';
  const text = String(event.action ?? event.disposition ?? '').toLowerCase();
  if (text === 'allowed') return 'ACCEPT';
  if (text === 'denied' || text === 'blocked') return 'REJECT';
  return undefined;
}

function directionOf(connection: Json): string | undefined {
  const id = Number(connection.direction_id);
  if (id === 1) return 'ingress';
  if (id === 2) return 'egress';
  const text = String(connection.direction ?? '').toLowerCase();
  if (text === 'inbound') return 'ingress';
  if (text === 'outbound') return 'egress';
  return undefined;
}

/** The interface's address and the packet's, from an endpoint (see the module comment). */
function addresses(endpoint: Json): { interface?: string | undefined; packet?: string | undefined } {
  const ip = text(endpoint.ip);
  const intermediate = Array.isArray(endpoint.intermediate_ips)
    ? text(endpoint.intermediate_ips[0])
    : undefined;
  return { interface: intermediate ?? ip, packet: ip };
}

/** Whether an OCSF event is a VPC flow record (Security Lake's VPC_FLOW source). */
export function isOcsfFlow(event: Json): boolean {
  return Number(event.class_uid) === 4001 && text(obj(obj(event.metadata)?.product)?.name) === 'Amazon VPC';
}

/** The flow record an OCSF Network Activity event was made from; `index` numbers it in its object. */
export function flowOfOcsf(event: Json, index: number): FlowEvent {
  const metadata = obj(event.metadata) ?? {};
  const cloud = obj(event.cloud) ?? {};
  const src = obj(event.src_endpoint) ?? {};
  const dst = obj(event.dst_endpoint) ?? {};
  const connection = obj(event.connection_info) ?? {};
  const traffic = obj(event.traffic) ?? {};
  const unmapped = obj(event.unmapped) ?? {};
  const tokens: string[] = LAYOUT.map(() => '-');
  const set = (name: string, value: string | undefined) => {
    const at = LAYOUT_INDEX.get(name);
    if (at !== undefined && value !== undefined) tokens[at] = value;
  };
  const version = text(obj(metadata.product)?.version);
  set('version', version);
  set('account-id', text(obj(cloud.account)?.uid) ?? text(cloud.account_uid));
  set('region', text(cloud.region));
  set('az-id', text(cloud.zone));
  set('srcport', text(src.port));
  set('dstport', text(dst.port));
  set('protocol', text(connection.protocol_num));
  set('packets', text(traffic.packets));
  set('bytes', text(traffic.bytes));
  set('start', seconds(event.start_time_dt ?? event.start_time ?? event.time));
  set('end', seconds(event.end_time_dt ?? event.end_time));
  set('action', actionOf(event));
  set('log-status', text(event.status_code));
  set('tcp-flags', text(connection.tcp_flags));
  set('type', text(connection.protocol_ver));
  set('pkt-src-aws-service', text(src.svc_name));
  set('pkt-dst-aws-service', text(dst.svc_name));
  const direction = directionOf(connection);
  set('flow-direction', direction);
  const boundary = Number(connection.boundary_id);
  if (boundary >= 4 && boundary <= 11) set('traffic-path', String(boundary - 3));
  const source = addresses(src);
  const destination = addresses(dst);
  set('srcaddr', source.interface);
  set('dstaddr', destination.interface);
  // Packet addresses exist from version 3 on; a version 2 record has none to give back.
  if (version === undefined || Number(version) >= 3) {
    set('pkt-srcaddr', source.packet);
    set('pkt-dstaddr', destination.packet);
  }
  const owner = direction === 'ingress' ? dst : direction === 'egress' ? src : undefined;
  for (const [field, key] of [
    ['interface-id', 'interface_uid'],
    ['vpc-id', 'vpc_uid'],
    ['subnet-id', 'subnet_uid'],
    ['instance-id', 'instance_uid'],
  ] as const) {
    set(field, text((owner ?? src)[key]) ?? (owner ? undefined : text(dst[key])));
  }
  // What the table leaves out, under its flow field name (Parquet names use `_` for `-`).
  for (const [key, value] of Object.entries(unmapped)) {
    const name = key.replaceAll('_', '-');
    if (tokens[LAYOUT_INDEX.get(name) ?? -1] === '-') set(name, text(value));
  }
  return flowRecord(index, LAYOUT, tokens, tokens.join(' '), 'row');
}
