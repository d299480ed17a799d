import { isIP } from 'node:net';
import type { RecordOrigin } from '../../types.js';
import { EcsMapError } from './errors.js';
import { dropEmpty, javaMapString } from './java-map-string.js';
import { hasKeys } from './objects.js';
import { DEFAULT_CATEGORIZATION, EVENT_CATEGORIZATION } from './tables.js';
import { ECS_VERSION, type EcsDocument, type EcsMapOptions } from './types.js';
import { parseUserAgent } from './user-agent.js';

type Json = Record<string, unknown>;

/** Elastic keeps the flattened copy only below Elasticsearch's keyword limit (beats#21382). */
const FLATTENED_LIMIT = 32766;

/**
 * One CloudTrail record → the ECS document Elastic's AWS integration (cloudtrail data stream) produces,
 * field for field, so Elastic's prebuilt rules and dashboards work on it. Differences from Elastic are
 * deliberate and small: `sharedEventID` is mapped (Elastic's pipeline looks for `sharedEventId` and misses
 * it), related.ip is filled, and source.ip is only set for a well-formed IP.
 *
 * Throws EcsMapError when eventTime is missing or not a time: it is the document's @timestamp, which a
 * data stream requires, and a record placed at the wrong time would mislead every time-bound search.
 * `text` is the record as it was in the object, when the decoder has it: `event.original` keeps it as is.
 */
export function cloudtrailToEcs(
  ct: Json,
  origin: RecordOrigin,
  options: EcsMapOptions = {},
  text?: string,
): EcsDocument {
  const event: Json = { kind: 'event' };
  const cloud: Json = { provider: 'aws' };
  const trail: Json = {};
  const user: Json = {};
  const relatedUser: string[] = [];
  const relatedIp: string[] = [];
  const doc: EcsDocument = { '@timestamp': eventTime(ct.eventTime, origin) };

  setIf(trail, 'event_version', str(ct.eventVersion));
  const identity = obj(ct.userIdentity);
  if (identity) mapIdentity(identity, trail, user, cloud, relatedUser);

  setIf(event, 'provider', str(ct.eventSource));
  const action = str(ct.eventName);
  setIf(event, 'action', action);
  setIf(trail, 'event_category', str(ct.eventCategory));
  const region = str(ct.awsRegion);
  if (region) cloud.region = region;

  const sourceAddress = str(ct.sourceIPAddress);
  if (sourceAddress) {
    const source: Json = { address: sourceAddress };
    if (isIP(sourceAddress) !== 0) {
      source.ip = sourceAddress;
      relatedIp.push(sourceAddress);
      const geo = options.geoip?.lookup(sourceAddress);
      if (geo?.geo) source.geo = geo.geo;
      if (geo?.as) source.as = geo.as;
    }
    doc.source = source;
  }
  const agent = str(ct.userAgent);
  if (agent) doc.user_agent = parseUserAgent(agent);

  setIf(trail, 'error_code', str(ct.errorCode));
  setIf(trail, 'error_message', str(ct.errorMessage));

  const flattened: Json = {};
  let additional = ct.additionalEventData;
  // Identity Center sign-ins name the user only here; Elastic moves it to user.name.
  const aedUserName = str(obj(additional)?.UserName);
  if (aedUserName) {
    if (!user.name) user.name = aedUserName;
    if (aedUserName.includes('@')) user.email = aedUserName;
    const { UserName: _moved, ...rest } = additional as Json;
    additional = rest;
  }
  const requestParameters = stringAndFlattened(ct.requestParameters, 'request_parameters', trail, flattened);
  const responseElements = stringAndFlattened(ct.responseElements, 'response_elements', trail, flattened);
  const additionalData = stringAndFlattened(additional, 'additional_eventdata', trail, flattened);
  stringAndFlattened(ct.serviceEventDetails, 'service_event_details', trail, flattened);

  setIf(trail, 'request_id', str(ct.requestID));
  setIf(event, 'id', str(ct.eventID));
  setIf(trail, 'event_type', str(ct.eventType));
  setIf(trail, 'api_version', str(ct.apiVersion));
  if (typeof ct.managementEvent === 'boolean') trail.management_event = ct.managementEvent;
  if (typeof ct.readOnly === 'boolean') trail.read_only = ct.readOnly;
  const resources = uniqueResources(ct.resources);
  if (resources) trail.resources = resources;
  setIf(trail, 'recipient_account_id', str(ct.recipientAccountId));
  setIf(trail, 'shared_event_id', str(ct.sharedEventID ?? ct.sharedEventId));
  setIf(trail, 'vpc_endpoint_id', str(ct.vpcEndpointId));
  const fromConsole = ct.sessionCredentialFromConsole;
  if (fromConsole === true || fromConsole === 'true') trail.session_credential_from_console = true;
  else if (fromConsole === false || fromConsole === 'false') trail.session_credential_from_console = false;

  const targetName = str(requestParameters?.userName);
  const newName = str(requestParameters?.newUserName);
  if (targetName) pushUnique(relatedUser, targetName);
  if (newName) pushUnique(relatedUser, newName);

  if (action === 'ConsoleLogin' && additionalData) {
    const aed: Json = {};
    if (additionalData.MobileVersion !== undefined)
      aed.mobile_version = additionalData.MobileVersion !== 'No';
    if (str(additionalData.LoginTo)) aed.login_to = additionalData.LoginTo;
    if (additionalData.MFAUsed !== undefined) aed.mfa_used = additionalData.MFAUsed !== 'No';
    if (hasKeys(aed)) trail.console_login = { additional_eventdata: aed };
  }

  // Categorisation, as Elastic's "Add ECS categorization" script: outcome from the error fields (ConsoleLogin
  // from its response), category/type from an exact eventName table.
  event.type = [...DEFAULT_CATEGORIZATION.type];
  event.outcome = trail.error_code !== undefined || trail.error_message !== undefined ? 'failure' : 'success';
  if (action === 'ConsoleLogin') {
    const login = str(responseElements?.ConsoleLogin)?.toLowerCase();
    if (login === 'success' || login === 'failure') event.outcome = login;
  }
  const categorized = action ? EVENT_CATEGORIZATION.get(action) : undefined;
  if (categorized) {
    if (categorized.category) event.category = [...categorized.category];
    event.type = [...categorized.type];
  }

  const groupId = str(obj(responseElements?.group)?.groupId);
  const group: Json = {};
  if (groupId) group.id = groupId;
  const targetId = str(obj(responseElements?.user)?.userId);
  if (targetId || targetName) {
    const target: Json = {};
    if (targetId) target.id = targetId;
    if (targetName) target.name = targetName;
    user.target = target;
  }
  if (newName) user.changes = { name: newName };
  const groupName = str(requestParameters?.groupName);
  if (groupName) group.name = groupName;

  const insight = dropEmpty(ct.insightDetails);
  if (insight !== undefined) flattened.insight_details = insight;
  if (hasKeys(flattened)) trail.flattened = flattened;

  const tlsDetails = obj(ct.tlsDetails);
  if (tlsDetails) {
    const tls: Json = {};
    const version = str(tlsDetails.tlsVersion);
    const split = version ? /^(.*)v(.*)$/.exec(version) : null;
    if (split) {
      tls.version_protocol = split[1]!.toLowerCase();
      tls.version = split[2];
    }
    setIf(tls, 'cipher', str(tlsDetails.cipherSuite));
    const host = str(tlsDetails.clientProvidedHostHeader);
    if (host) tls.client = { server_name: host };
    if (hasKeys(tls)) doc.tls = tls;
  }

  const sessionNames = identity ? mapSessionName(identity, user) : undefined;
  // An IAM user named by an e-mail address: Elastic keeps the name and copies it to user.email.
  if (user.email === undefined && typeof user.name === 'string' && emailAt(user.name) !== undefined)
    user.email = user.name;
  if (typeof user.id === 'string') relatedUser.unshift(user.id);
  if (sessionNames) relatedUser.unshift(...sessionNames);
  if (typeof user.name === 'string') pushUnique(relatedUser, user.name);

  event.dataset = 'aws.cloudtrail';
  event.module = 'aws';
  if (options.includeOriginal) event.original = text ?? JSON.stringify(ct);

  doc.ecs = { version: ECS_VERSION };
  doc.data_stream = { type: 'logs', dataset: 'aws.cloudtrail', namespace: options.namespace ?? 'default' };
  doc.event = event;
  doc.cloud = cloud;
  if (hasKeys(user)) doc.user = user;
  if (hasKeys(group)) doc.group = group;
  const related: Json = {};
  if (relatedUser.length > 0) related.user = dedupe(relatedUser);
  if (relatedIp.length > 0) related.ip = relatedIp;
  if (hasKeys(related)) doc.related = related;
  doc.aws = { cloudtrail: trail };
  return doc;
}

function mapIdentity(identity: Json, trail: Json, user: Json, cloud: Json, relatedUser: string[]): void {
  const ui: Json = {};
  setIf(ui, 'type', str(identity.type));
  const userName = str(identity.userName);
  if (userName) {
    relatedUser.push(userName);
    user.name = userName;
  }
  setIf(user, 'id', str(identity.principalId));
  setIf(ui, 'arn', str(identity.arn));
  const account = str(identity.accountId);
  if (account) cloud.account = { id: account };
  setIf(ui, 'access_key_id', str(identity.accessKeyId));
  const session = obj(identity.sessionContext);
  if (session) {
    const context: Json = {};
    const attributes = obj(session.attributes);
    if (attributes) {
      setIf(context, 'mfa_authenticated', str(attributes.mfaAuthenticated));
      const created = isoTime(attributes.creationDate);
      if (created) context.creation_date = created;
    }
    const issuer = obj(session.sessionIssuer);
    if (issuer) {
      const out: Json = {};
      setIf(out, 'type', str(issuer.type));
      const issuerName = str(issuer.userName);
      // Assumed roles: Elastic names the user after the role that issued the session.
      if (issuerName) user.name = issuerName;
      setIf(out, 'principal_id', str(issuer.principalId));
      setIf(out, 'arn', str(issuer.arn));
      setIf(out, 'account_id', str(issuer.accountId));
      if (hasKeys(out)) context.session_issuer = out;
    }
    if (hasKeys(context)) ui.session_context = context;
  }
  setIf(ui, 'invoked_by', str(identity.invokedBy));
  if (hasKeys(ui)) trail.user_identity = ui;
}

/**
 * An assumed role's or federated user's session name (the last part of its ARN; Identity Center puts the
 * person's e-mail address there) names who acted, where user.name names the role. Elastic lists it first
 * in related.user, then its local part when it is an address, and takes an address as user.email.
 */
function mapSessionName(identity: Json, user: Json): string[] | undefined {
  if (identity.type !== 'AssumedRole' && identity.type !== 'FederatedUser') return undefined;
  const arn = str(identity.arn);
  const session = arn?.slice(arn.lastIndexOf('/') + 1);
  if (!session || session === arn) return undefined;
  const at = emailAt(session);
  if (at === undefined) return [session];
  user.email ??= session;
  return [session, session.slice(0, at)];
}

/** Where the `@` of an address-like name is: something on both sides of the first one. */
function emailAt(name: string): number | undefined {
  const at = name.indexOf('@');
  return at > 0 && at < name.length - 1 ? at : undefined;
}

/** Elastic's two forms of a nested object: the Java Map.toString string, and the object itself (flattened). */
function stringAndFlattened(value: unknown, name: string, trail: Json, flattened: Json): Json | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  const cleaned = dropEmpty(value);
  if (cleaned === undefined) return undefined;
  const text = typeof value === 'object' ? javaMapString(value, cleaned) : String(cleaned);
  trail[name] = text;
  if (text.length < FLATTENED_LIMIT && typeof cleaned === 'object') flattened[name] = cleaned;
  return obj(cleaned);
}

function uniqueResources(value: unknown): Json[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const unique = new Map<string, Json>();
  for (const item of value) {
    const resource = obj(dropEmpty(item));
    if (!resource) continue;
    const out: Json = {};
    for (const [k, v] of Object.entries(resource)) {
      if (k === 'ARN') out.arn = v;
      else if (k === 'accountId') out.account_id = v;
      else out[k] = v;
    }
    unique.set(`${out.arn ?? ''}_${out.account_id ?? ''}_${out.type ?? ''}`, out);
  }
  return unique.size > 0 ? [...unique.values()] : undefined;
}

/** CloudTrail writes whole-second UTC times (`2026-11-28T10:00:00Z`); those only gain milliseconds. */
const WHOLE_SECOND_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Whether a text of the whole-second form is also a real UTC time, so it can be passed on as it is.
 * Checked digit by digit: Date.parse would cost more than the rest of the fast path, and the shape
 * alone would let `2026-13-45T99:00:00Z` through as a timestamp Elasticsearch refuses.
 */
function isRealWholeSecond(value: string): boolean {
  if (!WHOLE_SECOND_UTC.test(value)) return false;
  const month = twoDigits(value, 5);
  const day = twoDigits(value, 8);
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]!) return false;
  if (month === 2 && day === 29) {
    const year = Number(value.slice(0, 4));
    if (year % 4 !== 0 || (year % 100 === 0 && year % 400 !== 0)) return false;
  }
  return twoDigits(value, 11) < 24 && twoDigits(value, 14) < 60 && twoDigits(value, 17) < 60;
}

function twoDigits(text: string, at: number): number {
  return (text.charCodeAt(at) - 48) * 10 + text.charCodeAt(at + 1) - 48;
}

/** The record's @timestamp; the CIM mapper's words for the same faults. */
function eventTime(value: unknown, origin: RecordOrigin): string {
  if (value === undefined || value === null || value === '')
    throw new EcsMapError('eventTime is missing', origin, 'eventTime', 'record');
  const iso = isoTime(value);
  if (iso === undefined) {
    const shown = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
    throw new EcsMapError(`eventTime ${shown} is not a timestamp`, origin, 'eventTime', 'record');
  }
  return iso;
}

function isoTime(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (isRealWholeSecond(value)) return `${value.slice(0, 19)}.000Z`;
  // Any other form, or a day the calendar lacks: as the CIM mapper reads it (V8 rolls 02-30 over to March).
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function obj(value: unknown): Json | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : undefined;
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function setIf(target: Json, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

function pushUnique(list: string[], value: string): void {
  if (!list.includes(value)) list.push(value);
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
