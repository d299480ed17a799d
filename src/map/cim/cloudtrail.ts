import type { RecordOrigin } from '../../types.js';
import { CimMapError } from './errors.js';
import { cloudTrailTables as tables } from './lookups.js';
import { readText, select } from './select.js';
import type { CimFields } from './types.js';

const authenticationEvents = new Set(tables.authenticationEvents);
const srcUserEvents = new Set(tables.srcUser.eventName);
// Each src_user* field as a rule with no condition: `select` then coalesces its paths.
const srcUserRules = {
  name: [{ paths: tables.srcUser.name }],
  id: [{ paths: tables.srcUser.id }],
  type: [{ paths: tables.srcUser.type }],
};

/** Epoch seconds (with fraction) of a CloudTrail record's eventTime. */
export function cloudTrailTime(event: Record<string, unknown>, origin: RecordOrigin): number {
  const raw = event.eventTime;
  if (typeof raw !== 'string') throw new CimMapError('eventTime is missing', origin, 'eventTime');
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) throw new CimMapError(`eventTime "${raw}" is not a timestamp`, origin, 'eventTime');
  return ms / 1000;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function verbOf(eventName: string): string {
  return /^[A-Z][a-z]*/.exec(eventName)?.[0] ?? eventName;
}

/** The add-on overrides errorCode so that a console login that answered Failure counts as one. */
function failed(event: Record<string, unknown>): boolean {
  if (text(event.errorCode)) return true;
  const login = readText(event, 'responseElements.ConsoleLogin');
  return login !== undefined && /failure/i.test(login);
}

/**
 * Derivations that depend on the event name alone scan lookup tables (prefix and substring lists); names
 * repeat across records, so each distinct name is looked up once.
 */
function memoByName<T>(derive: (eventName: string) => T): (eventName: string) => T {
  const cache = new Map<string, T>();
  return (eventName) => {
    if (cache.has(eventName)) return cache.get(eventName) as T;
    const value = derive(eventName);
    if (cache.size >= 10_000) cache.clear();
    cache.set(eventName, value);
    return value;
  };
}

const changeAction = memoByName((eventName): string | undefined => {
  const exact = tables.actionStatus.exact[eventName];
  if (exact) return exact;
  for (const [prefix, action] of tables.actionStatus.prefixes) {
    if (eventName.startsWith(prefix)) return action;
  }
  return undefined;
});

function isReadOnly(event: Record<string, unknown>, eventName: string): boolean {
  if (typeof event.readOnly === 'boolean') return event.readOnly;
  const verb = verbOf(eventName);
  return tables.readVerbs.some((v) => verb === v || eventName.startsWith(v));
}

const objectCategory = memoByName((eventName): string | undefined => {
  for (const [part, category] of tables.objectCategory.contains) {
    if (eventName.includes(part)) return category;
  }
  return undefined;
});

function changeType(eventName: string, eventSource: string | undefined): string | undefined {
  const byName = tables.changeType.byEventName[eventName];
  if (byName) return byName;
  if (!eventSource) return undefined;
  return (
    tables.changeType.byEventSource[eventSource] ?? eventSource.replace(/\.amazonaws\.com$/, '').toUpperCase()
  );
}

function authenticationMethod(event: Record<string, unknown>, eventName: string): string | undefined {
  const mfaUsed = readText(event, 'additionalEventData.MFAUsed');
  if ((eventName === 'ConsoleLogin' && mfaUsed === 'Yes') || eventName === 'CheckMfa') return 'MFA';
  if (eventName === 'ConsoleLogin' && mfaUsed === 'No') return 'SFA';
  const sessionMfa = readText(event, 'userIdentity.sessionContext.attributes.mfaAuthenticated');
  if (
    (eventName === 'AssumeRole' || eventName === 'ListAliases') &&
    readText(event, 'userIdentity.type') === 'AssumedRole' &&
    sessionMfa === 'false'
  ) {
    return 'SFA';
  }
  return undefined;
}

function put(fields: CimFields, name: string, value: string | string[] | undefined): void {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0)) return;
  fields[name] = value;
}

/**
 * CIM fields for one CloudTrail record: Authentication for sign-ins, Change for writes, and the common
 * fields (user, src, vendor_*) on every record, named exactly as the Splunk Add-on for AWS names them so
 * ESCU searches work without the add-on.
 */
export function cloudTrailCimFields(event: Record<string, unknown>, origin: RecordOrigin): CimFields {
  const eventName = text(event.eventName);
  if (!eventName) throw new CimMapError('eventName is missing', origin, 'eventName');
  const eventSource = text(event.eventSource);
  const fields: CimFields = {};
  const failure = failed(event);
  const userType = readText(event, 'userIdentity.type');

  put(fields, 'vendor_product', tables.vendorProduct);
  put(fields, 'signature', eventName);
  // The add-on sets `command` on every record, reads included.
  put(fields, 'command', eventName);
  put(fields, 'app', text(event.eventType));
  put(fields, 'dvc', eventSource);
  put(fields, 'src', text(event.sourceIPAddress));
  put(fields, 'src_ip', text(event.sourceIPAddress));
  put(fields, 'region', text(event.awsRegion));
  put(fields, 'vendor_region', text(event.awsRegion));
  put(fields, 'user_agent', text(event.userAgent));
  put(fields, 'event_id', text(event.eventID));
  const accountId = readText(event, 'userIdentity.accountId');
  const recipient = text(event.recipientAccountId);
  put(
    fields,
    'aws_account_id',
    userType === 'AWSAccount' || userType === 'AWSService' ? recipient : (accountId ?? recipient),
  );
  put(fields, 'vendor_account', accountId ?? recipient);
  put(
    fields,
    'user_arn',
    readText(event, 'userIdentity.arn') ?? readText(event, 'requestParameters.roleArn'),
  );

  for (const name of ['user', 'user_name', 'user_type', 'dest'] as const) {
    const rules = tables.fields[name];
    if (rules) put(fields, name, select(rules, event, eventName));
  }
  if (srcUserEvents.has(eventName)) {
    const actor = select(srcUserRules.name, event, eventName);
    put(fields, 'src_user', actor);
    put(fields, 'src_user_name', actor);
    put(fields, 'src_user_id', select(srcUserRules.id, event, eventName));
    put(fields, 'src_user_type', select(srcUserRules.type, event, eventName));
  }
  put(fields, 'status', failure ? 'failure' : 'success');
  put(fields, 'result_id', text(event.errorCode));
  // The add-on gives the error message both names; Change's data model reads `result`.
  put(fields, 'reason', text(event.errorMessage));
  put(fields, 'result', text(event.errorMessage));
  put(fields, 'authentication_method', authenticationMethod(event, eventName));

  if (authenticationEvents.has(eventName)) {
    put(fields, 'action', failure ? 'failure' : 'success');
    return fields;
  }

  put(fields, 'action', changeAction(eventName));
  if (isReadOnly(event, eventName)) return fields;

  // A write: the Change data model. `change_type` marks it (every write has one; the Change eventtype
  // keys on it).
  put(fields, 'change_type', changeType(eventName, eventSource));
  put(fields, 'object_category', objectCategory(eventName));
  for (const name of [
    'object',
    'object_id',
    'direction',
    'src_ip_range',
    'dest_ip_range',
    'protocol',
    'protocol_code',
    'rule_action',
  ] as const) {
    const rules = tables.fields[name];
    if (rules) put(fields, name, select(rules, event, eventName));
  }
  return fields;
}
