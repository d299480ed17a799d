/**
 * CloudTrail records as Amazon Security Lake stores them, and CloudWatch Logs' `parseToOCSF` writes them
 * (flow records: ocsf-flow.ts): OCSF 1.1 events, mostly API Activity (class 6003). Each is turned back into the CloudTrail record it was
 * made from, following AWS's own CloudTrail → OCSF mapping (the field table Security Lake publishes for its
 * version 2 sources), so that the ECS and CIM mappings, the detection rules and the Splunk add-on work on
 * it exactly as on a record read from a trail's bucket. What that mapping leaves out of OCSF's fields goes
 * to OCSF's `unmapped` (a map of CloudTrail field paths to values) and comes back from there.
 */

import { epochMs, type Json, obj, text } from './ocsf-values.js';

/** The OCSF columns that mark a Parquet object (or a JSON event) as OCSF rather than flow records. */
export const OCSF_MARKERS = ['class_uid', 'metadata'] as const;

/** CloudTrail fields the OCSF mapping keeps as text in `unmapped` but CloudTrail writes as booleans. */
const BOOLEAN_FIELDS = new Set(['readOnly', 'managementEvent', 'sessionCredentialFromConsole']);

export type OcsfOutcome =
  | { kind: 'cloudtrail'; record: Json }
  | { kind: 'unsupported'; reason: string; field: string };

/** Whether an event is OCSF at all (it has a class and metadata), whatever its product. */
export function isOcsfEvent(value: Json): boolean {
  return value.class_uid !== undefined && obj(value.metadata) !== undefined;
}

/** A time as CloudTrail writes it: whole seconds without a fraction (`2026-11-29T10:00:00Z`). */
function cloudTrailTime(value: unknown): string | undefined {
  const ms = epochMs(value);
  if (!Number.isFinite(ms)) return text(value);
  const iso = new Date(ms).toISOString();
  return ms % 1000 === 0 ? `${iso.slice(0, 19)}Z` : iso;
}

/** Parses a JSON text the mapping stored for an object (request parameters, response elements). */
function jsonValue(value: unknown): unknown {
  if (typeof value !== 'string') return obj(value) ?? (Array.isArray(value) ? value : undefined);
  const trimmed = value.trim();
  if (trimmed === '' || trimmed === 'null') return undefined;
  if (trimmed[0] !== '{' && trimmed[0] !== '[') return value;
  try {
    return JSON.parse(trimmed);
  } catch {
    return value;
  }
}

/** Sets `a.b.c` in `target`, creating objects on the way (an existing non-object is left alone). */
function setPath(target: Json, path: string, value: unknown): void {
  const steps = path.split('.');
  let node = target;
  for (let i = 0; i < steps.length - 1; i++) {
    const step = steps[i]!;
    const next = obj(node[step]);
    if (next) node = next;
    else if (node[step] === undefined) {
      const created: Json = {};
      node[step] = created;
      node = created;
    } else return;
  }
  const last = steps[steps.length - 1]!;
  if (node[last] === undefined) node[last] = value;
}

function put(target: Json, key: string, value: unknown): void {
  if (value !== undefined && value !== null && value !== '') target[key] = value;
}

/** `userIdentity` from OCSF's actor, per AWS's table (user.uid is the ARN, uid_alt the principal id). */
function userIdentity(actor: Json | undefined): Json | undefined {
  if (!actor) return undefined;
  const user = obj(actor.user);
  const session = obj(actor.session);
  const identity: Json = {};
  put(identity, 'type', text(user?.type));
  // Security Lake's version 1 sources (OCSF 1.0.0-rc.2) put the ARN in `uuid` and the principal in `uid`.
  const v1 = text(user?.uuid) !== undefined;
  put(identity, 'principalId', text(v1 ? user?.uid : user?.uid_alt));
  put(identity, 'arn', text(v1 ? user?.uuid : user?.uid));
  put(identity, 'accountId', text(obj(user?.account)?.uid) ?? text(user?.account_uid));
  put(identity, 'accessKeyId', text(user?.credential_uid));
  put(identity, 'userName', text(user?.name));
  put(identity, 'invokedBy', text(actor.invoked_by));
  put(identity, 'identityProvider', text(obj(actor.idp)?.name));
  if (session) {
    const attributes: Json = {};
    put(attributes, 'creationDate', cloudTrailTime(session.created_time_dt ?? session.created_time));
    const mfa = session.is_mfa ?? session.mfa;
    if (typeof mfa === 'boolean') attributes.mfaAuthenticated = String(mfa);
    else put(attributes, 'mfaAuthenticated', text(mfa));
    const context: Json = {};
    const issuer = text(session.issuer);
    if (issuer) context.sessionIssuer = { arn: issuer };
    if (Object.keys(attributes).length > 0) context.attributes = attributes;
    if (Object.keys(context).length > 0) identity.sessionContext = context;
  }
  return Object.keys(identity).length > 0 ? identity : undefined;
}

function resources(list: unknown): Json[] | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out: Json[] = [];
  for (const item of list) {
    const r = obj(item);
    if (!r) continue;
    const resource: Json = {};
    put(resource, 'accountId', text(obj(obj(r.owner)?.account)?.uid) ?? text(obj(r.owner)?.account_uid));
    put(resource, 'type', text(r.type));
    put(resource, 'ARN', text(r.uid));
    if (Object.keys(resource).length > 0) out.push(resource);
  }
  return out.length > 0 ? out : undefined;
}

/**
 * The CloudTrail record an OCSF event was made from, or why it cannot be one (another product's event, or
 * one without the fields every CloudTrail record has). Pure.
 */
export function cloudTrailOfOcsf(event: Json): OcsfOutcome {
  const metadata = obj(event.metadata) ?? {};
  const product = obj(metadata.product) ?? {};
  const productName = text(product.name);
  if (productName !== 'CloudTrail') {
    return {
      kind: 'unsupported',
      reason: `an OCSF event of ${productName ?? 'no product'} (class ${text(event.class_uid) ?? 'unknown'}); only CloudTrail's and Amazon VPC flow logs' are read`,
      field: 'metadata.product.name',
    };
  }
  const api = obj(event.api) ?? {};
  const request = obj(api.request) ?? {};
  const response = obj(api.response) ?? {};
  const src = obj(event.src_endpoint) ?? {};
  const unmapped = obj(event.unmapped) ?? {};
  const record: Json = {};
  put(record, 'eventVersion', text(product.version));
  put(record, 'userIdentity', userIdentity(obj(event.actor)));
  put(record, 'eventTime', cloudTrailTime(event.time ?? event.time_dt));
  put(record, 'eventSource', text(obj(api.service)?.name));
  put(record, 'eventName', text(api.operation));
  put(record, 'awsRegion', text(obj(event.cloud)?.region));
  put(record, 'sourceIPAddress', text(src.ip) ?? text(src.domain));
  put(record, 'userAgent', text(obj(event.http_request)?.user_agent));
  put(record, 'errorCode', text(response.error));
  put(record, 'errorMessage', text(response.message));
  put(record, 'requestParameters', jsonValue(request.data));
  put(record, 'responseElements', jsonValue(response.data));
  put(record, 'requestID', text(request.uid));
  put(record, 'eventID', text(metadata.uid));
  put(record, 'eventType', text(metadata.event_code));
  put(record, 'apiVersion', text(api.version));
  put(record, 'vpcEndpointId', text(src.uid));
  put(record, 'eventCategory', text(obj(product.feature)?.name));
  put(record, 'resources', resources(event.resources));
  // The rest of the record, by its CloudTrail path; a value the mapping holds as text is turned back
  // into what CloudTrail writes (a boolean, an object).
  for (const [path, raw] of Object.entries(unmapped)) {
    const value =
      BOOLEAN_FIELDS.has(path) && (raw === 'true' || raw === 'false') ? raw === 'true' : jsonValue(raw);
    if (value !== undefined && value !== null) setPath(record, path, value);
  }
  for (const [field, name] of [
    ['eventName', 'api.operation'],
    ['eventTime', 'time'],
    ['eventSource', 'api.service.name'],
  ] as const) {
    if (record[field] === undefined)
      return { kind: 'unsupported', reason: `an OCSF CloudTrail event without ${name}`, field: name };
  }
  return { kind: 'cloudtrail', record };
}
