import { routedFetch } from '../network/index.js';
import { CIM_EVENTTYPES, eventtypeFields, tagsFields, tagsStanzaName } from './cim-eventtypes.js';
import { RuleInstallError } from './errors.js';
import { compileKibana, type KibanaRule } from './kibana.js';
import type { Rule } from './model.js';
import { compileSavedSearch, type SplOptions, savedSearchName, WEBHOOK_TOKEN_PLACEHOLDER } from './splunk.js';

/**
 * Idempotent installers. Each first reads what the SIEM holds, compares what we own of it with what the
 * rules compile to and writes only what differs; `dryRun` stops after the comparison. The plan is the diff
 * shown to users. Fields users own (a rule they disabled, their actions, exceptions, a schedule they
 * changed, a tag they disabled) are never compared and survive every update: see KIBANA_USER_FIELDS,
 * mergeSavedSearch and mergeKnowledgeObject.
 */
export type Change = 'created' | 'updated' | 'unchanged';

export interface PlanItem {
  id: string;
  name: string;
  /** What the object is, when it is not the rule's own (a Kibana rule, a saved search). */
  kind?: 'eventtype' | 'tags';
  change: Change;
  /** Keys whose values differ (updates only). */
  fields?: string[];
  /** Fields we would set but keep as installed because the user changed them (e.g. the schedule). */
  kept?: string[];
}

export interface InstallReport {
  target: 'kibana' | 'splunk';
  dryRun: boolean;
  items: PlanItem[];
}

export type Auth =
  | { apiKey: string }
  | { token: string }
  | { username: string; password: string }
  | undefined;

function authHeader(auth: Auth, scheme: 'ApiKey' | 'Bearer'): Record<string, string> {
  if (!auth) return {};
  if ('apiKey' in auth) return { authorization: `ApiKey ${auth.apiKey}` };
  if ('token' in auth) return { authorization: `${scheme} ${auth.token}` };
  return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
}

async function call(target: string, url: URL, init: RequestInit): Promise<Response> {
  try {
    return await routedFetch(url, init);
  } catch (err) {
    throw new RuleInstallError(
      `${target}: ${init.method ?? 'GET'} ${url.pathname} failed: ${(err as Error).message}`,
      {
        target,
        url: url.origin + url.pathname,
      },
    );
  }
}

async function refuse(target: string, url: URL, response: Response): Promise<never> {
  const body = (await response.text()).slice(0, 500);
  throw new RuleInstallError(`${target}: ${url.pathname} answered ${response.status}: ${body}`, {
    target,
    status: response.status,
    url: url.origin + url.pathname,
  });
}

function differingKeys(wanted: Record<string, unknown>, existing: Record<string, unknown>): string[] {
  return Object.keys(wanted).filter((k) => JSON.stringify(wanted[k]) !== JSON.stringify(existing[k]));
}

// ---------------------------------------------------------------- Kibana

export interface KibanaInstallOptions {
  url: string;
  auth?: Auth;
  /** Kibana space; rules go to the default space when absent. */
  space?: string;
  dryRun?: boolean;
}

/** The rules that raise alerts in a SIEM: correlations and the detections that generate their own. */
function alerting(rules: readonly Rule[]): Rule[] {
  return rules.filter((r) => r.kind === 'correlation' || r.generate);
}

/** The bodies `rules build` writes and `_import` takes, one per alerting rule. */
export function kibanaRules(rules: readonly Rule[]): KibanaRule[] {
  return alerting(rules).map(compileKibana);
}

/**
 * What users own on an installed Kibana rule: whether it runs, what it notifies, its exceptions and the
 * investigation aids they attach in Kibana. An update keeps them as installed; we compile none of them
 * except `enabled`, which only sets the state of a rule we create.
 */
export const KIBANA_USER_FIELDS = [
  'enabled',
  'actions',
  'throttle',
  'exceptions_list',
  'response_actions',
  'note',
  'timeline_id',
  'timeline_title',
  'investigation_fields',
  'alert_suppression',
] as const;

/**
 * The schedule is ours (a correlation's window follows its timespan) until the user changes it. To tell
 * the two apart, each install records the schedule it wrote in `meta` (kept by Kibana, not used by it);
 * an installed value that differs from the record is the user's. Rules installed before records were
 * kept are judged against the schedule those versions always wrote (legacySchedule) and ours now.
 */
const KIBANA_SCHEDULE_FIELDS = ['interval', 'from'] as const;
const META_KEY = 'aws_siem_connector';

type Json = Record<string, unknown>;

function withScheduleRecord(body: KibanaRule, meta: unknown): KibanaRule {
  const shipped = Object.fromEntries(KIBANA_SCHEDULE_FIELDS.map((k) => [k, body[k]]));
  const others = meta && typeof meta === 'object' ? (meta as Json) : {};
  return { ...body, meta: { ...others, [META_KEY]: { schedule: shipped } } };
}

/** The schedule every version before schedule records wrote (a correlation's follows its timespan). */
export function legacySchedule(rule: Rule): Json {
  if (rule.kind === 'detection') return { interval: '5m', from: 'now-6m' };
  const minutes = Math.max(1, Math.ceil(rule.timespanMs / 60_000));
  return { interval: `${minutes}m`, from: `now-${minutes + 1}m` };
}

/** The body to import over an installed rule: our content, the user's fields as installed. */
export function mergeKibanaRule(
  body: KibanaRule,
  installed: Json,
  legacy: Json = {},
): { merged: KibanaRule; managed: Json; userSchedule: string[] } {
  const record = ((installed.meta as Json | undefined)?.[META_KEY] as Json | undefined)?.schedule as
    | Json
    | undefined;
  const userSchedule = KIBANA_SCHEDULE_FIELDS.filter((k) => {
    if (installed[k] === undefined) return false;
    return record ? installed[k] !== record[k] : installed[k] !== body[k] && installed[k] !== legacy[k];
  });
  const merged: KibanaRule = withScheduleRecord(body, installed.meta);
  for (const k of [...KIBANA_USER_FIELDS, ...userSchedule]) {
    if (installed[k] === undefined || installed[k] === null) delete merged[k];
    else merged[k] = installed[k];
  }
  // What we own and compare: everything we compile but the user's fields and `version`, which Kibana
  // bumps on every update itself; `meta` only holds our bookkeeping.
  const managed: Json = { ...merged };
  for (const k of ['version', 'meta', ...KIBANA_USER_FIELDS, ...userSchedule]) delete managed[k];
  return { merged, managed, userSchedule };
}

export async function installKibana(
  rules: readonly Rule[],
  options: KibanaInstallOptions,
): Promise<InstallReport> {
  const base =
    options.url.replace(/\/+$/, '') + (options.space ? `/s/${encodeURIComponent(options.space)}` : '');
  const headers = {
    'kbn-xsrf': 'true',
    'elastic-api-version': '2023-10-31',
    ...authHeader(options.auth, 'ApiKey'),
  };
  const items: PlanItem[] = [];
  const toImport: KibanaRule[] = [];
  for (const rule of alerting(rules)) {
    const body = compileKibana(rule);
    const url = new URL(`${base}/api/detection_engine/rules`);
    url.searchParams.set('rule_id', body.rule_id);
    const response = await call('kibana', url, { headers });
    if (response.status === 404) {
      items.push({ id: body.rule_id, name: body.name, change: 'created' });
      toImport.push(withScheduleRecord(body, undefined));
      continue;
    }
    if (!response.ok) await refuse('kibana', url, response);
    const installed = (await response.json()) as Json;
    const { merged, managed, userSchedule } = mergeKibanaRule(body, installed, legacySchedule(rule));
    const fields = differingKeys(managed, installed);
    items.push({
      id: body.rule_id,
      name: body.name,
      change: fields.length ? 'updated' : 'unchanged',
      ...(fields.length ? { fields } : {}),
      ...(userSchedule.length ? { kept: userSchedule } : {}),
    });
    // `_import` replaces the whole rule, so the merged body carries the user's fields over.
    if (fields.length) toImport.push(merged);
  }
  if (!options.dryRun && toImport.length > 0) {
    const url = new URL(`${base}/api/detection_engine/rules/_import`);
    url.searchParams.set('overwrite', 'true');
    const form = new FormData();
    form.append('file', new Blob([toNdjson(toImport)], { type: 'application/x-ndjson' }), 'rules.ndjson');
    const response = await call('kibana', url, { method: 'POST', headers, body: form });
    if (!response.ok) await refuse('kibana', url, response);
    const result = (await response.json()) as {
      success?: boolean;
      errors?: { rule_id?: string; error?: { message?: string } }[];
    };
    if (result.errors && result.errors.length > 0) {
      const first = result.errors[0];
      throw new RuleInstallError(
        `kibana: import rejected ${result.errors.length} rule(s), first ${first?.rule_id}: ${first?.error?.message}`,
        { target: 'kibana', rule: first?.rule_id },
      );
    }
  }
  return { target: 'kibana', dryRun: Boolean(options.dryRun), items };
}

export function toNdjson(items: readonly unknown[]): string {
  return `${items.map((i) => JSON.stringify(i)).join('\n')}\n`;
}

// ---------------------------------------------------------------- Splunk

export interface SplunkInstallOptions extends SplOptions {
  url: string;
  auth?: Auth;
  app?: string;
  /** Replaces the token placeholder in the webhook URL; left as a placeholder when absent. */
  webhookToken?: string;
  dryRun?: boolean;
}

export const SPLUNK_APP = 'aws_siem_connector';

export function splunkSavedSearches(
  rules: readonly Rule[],
  options: SplOptions & { webhookToken?: string } = {},
) {
  return alerting(rules).map((rule) => {
    const fields = compileSavedSearch(rule, options);
    if (options.webhookToken) {
      fields['action.webhook.param.url'] = (fields['action.webhook.param.url'] as string).replace(
        WEBHOOK_TOKEN_PLACEHOLDER,
        encodeURIComponent(options.webhookToken),
      );
    }
    return { id: rule.id, name: savedSearchName(rule), fields };
  });
}

/**
 * What users own on an installed saved search: `disabled`, any alert action they added (we only own the
 * webhook; `actions` keeps theirs beside it) and, once they re-scheduled it, the schedule. We have always
 * shipped one cron for every rule and Splunk has nowhere to record what we wrote, so a cron that differs
 * from ours is the user's, and then so are the dispatch window bounds that go with it.
 */
const SPLUNK_USER_FIELDS = ['disabled'] as const;
const SPLUNK_SCHEDULE_FIELDS = ['cron_schedule', 'dispatch.earliest_time', 'dispatch.latest_time'] as const;

/** Our fields for an installed saved search, minus what belongs to the user; `kept` names the latter. */
export function mergeSavedSearch(
  fields: Record<string, string>,
  existing: Record<string, string>,
): { managed: Record<string, string>; kept: string[] } {
  const managed = { ...fields };
  const kept: string[] = [];
  for (const k of SPLUNK_USER_FIELDS) delete managed[k];
  if (existing.cron_schedule !== undefined && existing.cron_schedule !== fields.cron_schedule) {
    for (const k of SPLUNK_SCHEDULE_FIELDS) {
      delete managed[k];
      if (existing[k] !== fields[k]) kept.push(k);
    }
  }
  const ours = (fields.actions ?? '').split(',').filter(Boolean);
  const theirs = (existing.actions ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => a && !ours.includes(a));
  if (theirs.length) managed.actions = [...ours, ...theirs].join(',');
  return { managed, kept };
}

export async function installSplunk(
  rules: readonly Rule[],
  options: SplunkInstallOptions,
): Promise<InstallReport> {
  const app = options.app ?? SPLUNK_APP;
  const namespace = `${options.url.replace(/\/+$/, '')}/servicesNS/nobody/${encodeURIComponent(app)}`;
  const headers = authHeader(options.auth, 'Bearer');
  const objects: SplunkObject[] = [
    ...splunkSavedSearches(rules, options).map(
      (search): SplunkObject => ({
        id: search.id,
        name: search.name,
        collection: 'saved/searches',
        fields: search.fields,
        merge: (existing) => mergeSavedSearch(search.fields, existing),
        global: false,
      }),
    ),
    ...splunkCimObjects().map(
      (object): SplunkObject => ({
        ...object,
        id: object.name,
        merge: (existing) => mergeKnowledgeObject(object, existing),
        global: true,
      }),
    ),
  ];
  const items: PlanItem[] = [];
  for (const object of objects) {
    items.push(await installSplunkObject(namespace, headers, object, Boolean(options.dryRun)));
  }
  return { target: 'splunk', dryRun: Boolean(options.dryRun), items };
}

/** Splunk returns every value as it stores it (numbers, booleans); we compare as text. */
function storedAsText(content: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(content).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]),
  );
}

async function postForm(target: URL, headers: Record<string, string>, form: Record<string, string>) {
  target.searchParams.set('output_mode', 'json');
  const write = await call('splunk', target, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  if (!write.ok) await refuse('splunk', target, write);
}

/**
 * The app's other objects, for the CIM data models (see cim-eventtypes.ts): each eventtype
 * (saved/eventtypes) and the tags.conf stanza that tags it (configs/conf-tags), in that order.
 */
export interface KnowledgeObject {
  kind: 'eventtype' | 'tags';
  /** The REST collection under servicesNS/nobody/<app>/. */
  collection: 'saved/eventtypes' | 'configs/conf-tags';
  name: string;
  fields: Record<string, string>;
}

export function splunkCimObjects(): KnowledgeObject[] {
  return CIM_EVENTTYPES.flatMap((e): KnowledgeObject[] => [
    { kind: 'eventtype', collection: 'saved/eventtypes', name: e.name, fields: eventtypeFields(e) },
    { kind: 'tags', collection: 'configs/conf-tags', name: tagsStanzaName(e.name), fields: tagsFields(e) },
  ]);
}

/**
 * What users own on our knowledge objects: an eventtype's `disabled` (never sent, so never compared), a
 * tag of ours they disabled on our stanza (kept, as a changed schedule is), and tags they added to it
 * (never sent, so Splunk keeps them). Everything else we set is ours.
 */
export function mergeKnowledgeObject(
  object: KnowledgeObject,
  existing: Record<string, string>,
): { managed: Record<string, string>; kept: string[] } {
  const managed = { ...object.fields };
  const kept: string[] = [];
  if (object.kind === 'tags') {
    for (const tag of Object.keys(object.fields)) {
      if (existing[tag] !== 'disabled') continue;
      delete managed[tag];
      kept.push(tag);
    }
  }
  return { managed, kept };
}

/**
 * Shared with the app alone, an eventtype or tag tags nothing for the CIM data models, which search from
 * their own app: both are shared globally (`sharing` in the plan when they are not). The built app gets
 * the same from `export = system` in its default.meta.
 */
const GLOBAL_ACL = { owner: 'nobody', sharing: 'global' };

/** One object the installer owns in the app: a saved search, an eventtype, a tags stanza. */
interface SplunkObject {
  id: string;
  name: string;
  kind?: PlanItem['kind'];
  /** The REST collection under servicesNS/nobody/<app>/. */
  collection: string;
  fields: Record<string, string>;
  /** What of `fields` is ours to compare and send, given what Splunk holds, and what users keep. */
  merge(existing: Record<string, string>): { managed: Record<string, string>; kept: string[] };
  /** Shared globally, and shared so again when it is not (`sharing` in the plan). */
  global: boolean;
}

/**
 * Reads the object, then creates it, updates what differs or leaves it; a dry run only reads. A create
 * sends everything; an update only our differing fields (Splunk leaves the ones not sent as they are).
 */
async function installSplunkObject(
  namespace: string,
  headers: Record<string, string>,
  object: SplunkObject,
  dryRun: boolean,
): Promise<PlanItem> {
  const collection = `${namespace}/${object.collection}`;
  const path = `${collection}/${encodeURIComponent(object.name)}`;
  const url = new URL(path);
  url.searchParams.set('output_mode', 'json');
  const response = await call('splunk', url, { headers });
  let change: Change;
  let fields: string[] | undefined;
  let kept: string[] = [];
  let send: Record<string, string> = object.fields;
  let share = object.global;
  if (response.status === 404) change = 'created';
  else {
    if (!response.ok) await refuse('splunk', url, response);
    const body = (await response.json()) as {
      entry?: { acl?: { sharing?: unknown }; content?: Record<string, unknown> }[];
    };
    const entry = body.entry?.[0];
    const existing = storedAsText(entry?.content ?? {});
    const merged = object.merge(existing);
    kept = merged.kept;
    const differing = differingKeys(merged.managed, existing);
    send = Object.fromEntries(differing.map((k) => [k, merged.managed[k] as string]));
    share = object.global && entry?.acl?.sharing !== GLOBAL_ACL.sharing;
    fields = share ? [...differing, 'sharing'] : differing;
    change = fields.length ? 'updated' : 'unchanged';
  }
  const item: PlanItem = {
    id: object.id,
    name: object.name,
    ...(object.kind ? { kind: object.kind } : {}),
    change,
    ...(fields?.length ? { fields } : {}),
    ...(kept.length ? { kept } : {}),
  };
  if (dryRun || change === 'unchanged') return item;
  if (change === 'created') await postForm(new URL(collection), headers, { name: object.name, ...send });
  else if (Object.keys(send).length > 0) await postForm(new URL(path), headers, send);
  if (share) await postForm(new URL(`${path}/acl`), headers, GLOBAL_ACL);
  return item;
}
