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

const text = { type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' } as const;
const struct = (name: string, children: number) =>
  ({ name, repetition_type: 'OPTIONAL', num_children: children }) as const;

/** Security Lake's layout as Parquet: nested structs, a list of resources, `unmapped` as a map; gzip pages. */
const SCHEMA = [
  { name: 'schema', num_children: 14 },
  { name: 'class_uid', type: 'INT32', repetition_type: 'OPTIONAL' },
  { name: 'class_name', ...text },
  { name: 'category_uid', type: 'INT32', repetition_type: 'OPTIONAL' },
  { name: 'severity_id', type: 'INT32', repetition_type: 'OPTIONAL' },
  { name: 'time', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'time_dt', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' },
  struct('metadata', 5),
  { name: 'uid', ...text },
  { name: 'version', ...text },
  { name: 'event_code', ...text },
  { name: 'profiles', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', ...text },
  struct('product', 4),
  { name: 'name', ...text },
  { name: 'vendor_name', ...text },
  { name: 'version', ...text },
  struct('feature', 1),
  { name: 'name', ...text },
  struct('cloud', 2),
  { name: 'provider', ...text },
  { name: 'region', ...text },
  struct('api', 5),
  { name: 'operation', ...text },
  { name: 'version', ...text },
  struct('service', 1),
  { name: 'name', ...text },
  struct('request', 2),
  { name: 'uid', ...text },
  { name: 'data', ...text },
  struct('response', 3),
  { name: 'error', ...text },
  { name: 'message', ...text },
  { name: 'data', ...text },
  struct('actor', 4),
  struct('user', 6),
  { name: 'type', ...text },
  { name: 'uid', ...text },
  { name: 'uid_alt', ...text },
  { name: 'name', ...text },
  { name: 'credential_uid', ...text },
  struct('account', 1),
  { name: 'uid', ...text },
  struct('session', 3),
  { name: 'issuer', ...text },
  { name: 'created_time_dt', type: 'INT64', converted_type: 'TIMESTAMP_MILLIS', repetition_type: 'OPTIONAL' },
  { name: 'is_mfa', type: 'BOOLEAN', repetition_type: 'OPTIONAL' },
  { name: 'invoked_by', ...text },
  struct('idp', 1),
  { name: 'name', ...text },
  struct('src_endpoint', 3),
  { name: 'ip', ...text },
  { name: 'domain', ...text },
  { name: 'uid', ...text },
  struct('http_request', 1),
  { name: 'user_agent', ...text },
  { name: 'resources', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  struct('element', 3),
  { name: 'uid', ...text },
  { name: 'type', ...text },
  struct('owner', 1),
  struct('account', 1),
  { name: 'uid', ...text },
  { name: 'unmapped', repetition_type: 'OPTIONAL', converted_type: 'MAP', num_children: 1 },
  { name: 'key_value', repetition_type: 'REPEATED', num_children: 2 },
  { name: 'key', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
  { name: 'value', ...text },
];

const COLUMNS = [
  'class_uid',
  'class_name',
  'category_uid',
  'severity_id',
  'time',
  'time_dt',
  'metadata',
  'cloud',
  'api',
  'actor',
  'src_endpoint',
  'http_request',
  'resources',
  'unmapped',
];

/** OCSF events as one Security Lake Parquet object (`….gz.parquet`). */
export function ocsfParquet(events: Json[]): Uint8Array {
  const columnData = COLUMNS.map((name) => ({
    name,
    data: events.map((e) => (name === 'time' ? BigInt(e.time as number) : (e[name] ?? null))),
  }));
  const buffer = parquetWriteBuffer({
    columnData,
    schema: SCHEMA as never,
    codec: 'GZIP',
    compressors: { GZIP: (input: Uint8Array) => gzipSync(input) },
  });
  return new Uint8Array(buffer);
}
