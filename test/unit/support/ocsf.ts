import { gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';

type Json = Record<string, unknown>;

/**
 * A CloudTrail record as Amazon Security Lake (version 2 sources, OCSF 1.1 API Activity) stores it, per
 * AWS's published CloudTrail → OCSF field table; what the table does not map goes to `unmapped` under
 * its CloudTrail path, objects as JSON text. Test data for the connector's reverse mapping, written
 * independently of it.
 */
export function ocsfOfCloudTrail(record: Json): Json {
  const identity = (record.userIdentity ?? {}) as Json;
  const context = (identity.sessionContext ?? {}) as Json;
  const attributes = (context.attributes ?? {}) as Json;
  const issuer = (context.sessionIssuer ?? {}) as Json;
  const time = Date.parse(String(record.eventTime));
  const source = typeof record.sourceIPAddress === 'string' ? record.sourceIPAddress : undefined;
  const isIp = source !== undefined && /^[\d.]+$|:/.test(source);
  const mapped = new Set([
    'eventVersion',
    'userIdentity',
    'eventTime',
    'eventSource',
    'eventName',
    'awsRegion',
    'sourceIPAddress',
    'userAgent',
    'errorCode',
    'errorMessage',
    'requestParameters',
    'responseElements',
    'requestID',
    'eventID',
    'eventType',
    'apiVersion',
    'vpcEndpointId',
    'eventCategory',
    'resources',
  ]);
  const unmapped: Record<string, string> = {};
  const keep = (path: string, value: unknown) => {
    if (value === undefined || value === null) return;
    unmapped[path] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  };
  for (const [key, value] of Object.entries(record)) if (!mapped.has(key)) keep(key, value);
  for (const [key, value] of Object.entries(identity))
    if (
      ![
        'type',
        'principalId',
        'arn',
        'accountId',
        'accessKeyId',
        'userName',
        'invokedBy',
        'identityProvider',
        'sessionContext',
      ].includes(key)
    )
      keep(`userIdentity.${key}`, value);
  for (const [key, value] of Object.entries(context))
    if (key !== 'attributes' && key !== 'sessionIssuer') keep(`userIdentity.sessionContext.${key}`, value);
  for (const [key, value] of Object.entries(issuer))
    if (key !== 'arn') keep(`userIdentity.sessionContext.sessionIssuer.${key}`, value);
  const json = (value: unknown) =>
    value === undefined || value === null ? undefined : JSON.stringify(value);
  return {
    class_uid: 6003,
    class_name: 'API Activity',
    category_uid: 6,
    severity_id: 1,
    time,
    time_dt: new Date(time),
    metadata: {
      uid: record.eventID,
      version: '1.1.0',
      event_code: record.eventType,
      profiles: ['cloud', 'datetime'],
      product: {
        name: 'CloudTrail',
        vendor_name: 'AWS',
        version: record.eventVersion,
        feature: record.eventCategory === undefined ? undefined : { name: record.eventCategory },
      },
    },
    cloud: { provider: 'AWS', region: record.awsRegion },
    api: {
      operation: record.eventName,
      version: record.apiVersion,
      service: { name: record.eventSource },
      request: { uid: record.requestID, data: json(record.requestParameters) },
      response: {
        error: record.errorCode,
        message: record.errorMessage,
        data: json(record.responseElements),
      },
    },
    actor: {
      user: {
        type: identity.type,
        uid: identity.arn,
        uid_alt: identity.principalId,
        name: identity.userName,
        credential_uid: identity.accessKeyId,
        account: identity.accountId === undefined ? undefined : { uid: identity.accountId },
      },
      session:
        context.sessionIssuer || context.attributes
          ? {
              issuer: issuer.arn,
              created_time_dt:
                attributes.creationDate === undefined ? undefined : new Date(String(attributes.creationDate)),
              is_mfa:
                attributes.mfaAuthenticated === undefined
                  ? undefined
                  : attributes.mfaAuthenticated === 'true',
            }
          : undefined,
      invoked_by: identity.invokedBy,
      idp: identity.identityProvider === undefined ? undefined : { name: identity.identityProvider },
    },
    src_endpoint: {
      ip: isIp ? source : undefined,
      domain: isIp ? undefined : source,
      uid: record.vpcEndpointId,
    },
    http_request: { user_agent: record.userAgent },
    resources: Array.isArray(record.resources)
      ? (record.resources as Json[]).map((r) => ({
          uid: r.ARN,
          type: r.type,
          owner: r.accountId === undefined ? undefined : { account: { uid: r.accountId } },
        }))
      : undefined,
    unmapped,
  };
}

/** A column's shape: a leaf type, a struct of shapes, a list of one shape, or a string → string map. */
type Shape =
  | 'STRING'
  | 'INT32'
  | 'INT64'
  | 'BOOLEAN'
  | 'TIMESTAMP'
  | 'MAP'
  | Shape[]
  | { [name: string]: Shape };

const LEAVES = {
  STRING: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  INT32: { type: 'INT32' },
  INT64: { type: 'INT64' },
  BOOLEAN: { type: 'BOOLEAN' },
  TIMESTAMP: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' },
} as const;

/** Parquet schema elements of one optional column, depth first (lists and maps in Parquet's 3-level form). */
function columnSchema(name: string, shape: Shape): Record<string, unknown>[] {
  if (typeof shape === 'string' && shape !== 'MAP')
    return [{ name, ...LEAVES[shape], repetition_type: 'OPTIONAL' }];
  if (shape === 'MAP')
    return [
      { name, repetition_type: 'OPTIONAL', converted_type: 'MAP', num_children: 1 },
      { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
      { name: 'key', ...LEAVES.STRING, repetition_type: 'REQUIRED' },
      { name: 'value', ...LEAVES.STRING, repetition_type: 'OPTIONAL' },
    ];
  if (Array.isArray(shape))
    return [
      { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      ...columnSchema('element', shape[0]!),
    ];
  const children = Object.entries(shape);
  return [
    { name, repetition_type: 'OPTIONAL', num_children: children.length },
    ...children.flatMap(([child, childShape]) => columnSchema(child, childShape)),
  ];
}

/** A value as the writer takes it for its shape: 64-bit integers as bigints, at any depth. */
function columnValue(shape: Shape, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (shape === 'INT64') return typeof value === 'number' ? BigInt(value) : value;
  if (Array.isArray(shape)) return (value as unknown[]).map((v) => columnValue(shape[0]!, v));
  if (typeof shape === 'object')
    return Object.fromEntries(
      Object.entries(shape).map(([k, childShape]) => [k, columnValue(childShape, (value as Json)[k])]),
    );
  return value;
}

/** Security Lake's layout as Parquet: nested structs, lists, `unmapped` as a map; gzip pages. */
function lakeParquet(columns: Record<string, Shape>, events: Json[]): Uint8Array {
  const names = Object.keys(columns);
  const schema = [
    { name: 'schema', num_children: names.length },
    ...names.flatMap((name) => columnSchema(name, columns[name]!)),
  ];
  const columnData = names.map((name) => ({
    name,
    data: events.map((e) => columnValue(columns[name]!, e[name])),
  }));
  const buffer = parquetWriteBuffer({
    columnData,
    schema: schema as never,
    codec: 'GZIP',
    compressors: { GZIP: (input: Uint8Array) => gzipSync(input) },
  });
  return new Uint8Array(buffer);
}

const API_ACTIVITY: Record<string, Shape> = {
  class_uid: 'INT32',
  class_name: 'STRING',
  category_uid: 'INT32',
  severity_id: 'INT32',
  time: 'INT64',
  time_dt: 'TIMESTAMP',
  metadata: {
    uid: 'STRING',
    version: 'STRING',
    event_code: 'STRING',
    profiles: ['STRING'],
    product: { name: 'STRING', vendor_name: 'STRING', version: 'STRING', feature: { name: 'STRING' } },
  },
  cloud: { provider: 'STRING', region: 'STRING' },
  api: {
    operation: 'STRING',
    version: 'STRING',
    service: { name: 'STRING' },
    request: { uid: 'STRING', data: 'STRING' },
    response: { error: 'STRING', message: 'STRING', data: 'STRING' },
  },
  actor: {
    user: {
      type: 'STRING',
      uid: 'STRING',
      uid_alt: 'STRING',
      name: 'STRING',
      credential_uid: 'STRING',
      account: { uid: 'STRING' },
    },
    session: { issuer: 'STRING', created_time_dt: 'TIMESTAMP', is_mfa: 'BOOLEAN' },
    invoked_by: 'STRING',
    idp: { name: 'STRING' },
  },
  src_endpoint: { ip: 'STRING', domain: 'STRING', uid: 'STRING' },
  http_request: { user_agent: 'STRING' },
  resources: [{ uid: 'STRING', type: 'STRING', owner: { account: { uid: 'STRING' } } }],
  unmapped: 'MAP',
};

/** OCSF API Activity events as one Security Lake Parquet object (`….gz.parquet`). */
export function ocsfParquet(events: Json[]): Uint8Array {
  return lakeParquet(API_ACTIVITY, events);
}

const ENDPOINT: Shape = {
  ip: 'STRING',
  port: 'INT32',
  svc_name: 'STRING',
  intermediate_ips: ['STRING'],
  interface_uid: 'STRING',
  vpc_uid: 'STRING',
  subnet_uid: 'STRING',
  instance_uid: 'STRING',
};

const NETWORK_ACTIVITY: Record<string, Shape> = {
  class_uid: 'INT32',
  category_uid: 'INT32',
  activity_id: 'INT32',
  action_id: 'INT32',
  disposition_id: 'INT32',
  status_code: 'STRING',
  time: 'INT64',
  start_time_dt: 'TIMESTAMP',
  end_time_dt: 'TIMESTAMP',
  metadata: { version: 'STRING', product: { name: 'STRING', vendor_name: 'STRING', version: 'STRING' } },
  cloud: { provider: 'STRING', region: 'STRING', zone: 'STRING', account: { uid: 'STRING' } },
  src_endpoint: ENDPOINT,
  dst_endpoint: ENDPOINT,
  connection_info: {
    protocol_num: 'INT32',
    protocol_ver: 'STRING',
    tcp_flags: 'INT32',
    direction_id: 'INT32',
    boundary_id: 'INT32',
  },
  traffic: { packets: 'INT64', bytes: 'INT64' },
  unmapped: 'MAP',
};

/**
 * A VPC flow record (its fields by name) as Security Lake stores it, per AWS's VPC Flow Logs → OCSF 1.1
 * table, conditions included; written independently of the connector's reverse mapping.
 */
export function ocsfOfFlow(fields: Record<string, string | undefined>): Json {
  const num = (name: string) => (fields[name] === undefined ? undefined : Number(fields[name]));
  const ingress = fields['flow-direction'] === 'ingress';
  const egress = fields['flow-direction'] === 'egress';
  const placement = {
    interface_uid: fields['interface-id'],
    vpc_uid: fields['vpc-id'],
    subnet_uid: fields['subnet-id'],
    instance_uid: fields['instance-id'],
  };
  const endpoint = (address?: string, packet?: string, port?: number, service?: string, placed = false) => {
    const differs = packet !== undefined && address !== undefined && packet !== address;
    return {
      ip: differs ? packet : (address ?? packet),
      intermediate_ips: differs ? [address] : undefined,
      port,
      svc_name: service,
      ...(placed ? placement : {}),
    };
  };
  const unmapped: Record<string, string> = {};
  for (const name of [
    'sublocation-type',
    'sublocation-id',
    'ecs-cluster-name',
    'ecs-task-id',
    'reject-reason',
  ])
    if (fields[name] !== undefined) unmapped[name.replaceAll('-', '_')] = fields[name]!;
  const action = fields.action;
  const start = num('start');
  const path = num('traffic-path');
  return {
    class_uid: 4001,
    category_uid: 4,
    activity_id: 6,
    action_id: action === 'ACCEPT' ? 1 : action === 'REJECT' ? 2 : undefined,
    disposition_id: action === 'ACCEPT' ? 1 : action === 'REJECT' ? 2 : undefined,
    status_code: fields['log-status'],
    time: start === undefined ? undefined : start * 1000,
    start_time_dt: start === undefined ? undefined : new Date(start * 1000),
    end_time_dt: fields.end === undefined ? undefined : new Date(Number(fields.end) * 1000),
    metadata: {
      version: '1.1.0',
      product: { name: 'Amazon VPC', vendor_name: 'AWS', version: fields.version },
    },
    cloud: {
      provider: 'AWS',
      region: fields.region,
      zone: fields['az-id'],
      account: { uid: fields['account-id'] },
    },
    // The table places the interface by direction; without one (NODATA, versions before 5) on the source.
    src_endpoint: endpoint(
      fields.srcaddr,
      fields['pkt-srcaddr'],
      num('srcport'),
      fields['pkt-src-aws-service'],
      !ingress,
    ),
    dst_endpoint: endpoint(
      fields.dstaddr,
      fields['pkt-dstaddr'],
      num('dstport'),
      fields['pkt-dst-aws-service'],
      ingress,
    ),
    connection_info: {
      protocol_num: num('protocol'),
      protocol_ver: fields.type,
      tcp_flags: num('tcp-flags'),
      direction_id: ingress ? 1 : egress ? 2 : undefined,
      boundary_id: path === undefined ? undefined : path + 3,
    },
    traffic: { packets: num('packets'), bytes: num('bytes') },
    unmapped,
  };
}

/** OCSF Network Activity events as one Security Lake Parquet object. */
export function ocsfFlowParquet(events: Json[]): Uint8Array {
  return lakeParquet(NETWORK_ACTIVITY, events);
}
