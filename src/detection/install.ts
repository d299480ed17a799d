import { RuleInstallError } from './errors.js';
import { compileKibana, type KibanaRule } from './kibana.js';
import type { Rule } from './model.js';
import { compileSavedSearch, type SplOptions, savedSearchName, WEBHOOK_TOKEN_PLACEHOLDER } from './splunk.js';

/**
 * Idempotent installers. Each first reads what the SIEM holds, compares it with what the rules compile to
 * and writes only what differs; `dryRun` stops after the comparison. The plan is the diff shown to users.
 */
export type Change = 'created' | 'updated' | 'unchanged';

export interface PlanItem {
  id: string;
  name: string;
  change: Change;
  /** Keys whose values differ (updates only). */
  fields?: string[];
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
    return await fetch(url, init);
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

/** The bodies `rules build` writes and `_import` takes, one per alerting rule. */
export function kibanaRules(rules: readonly Rule[]): KibanaRule[] {
  return rules.filter((r) => r.kind === 'correlation' || r.generate).map(compileKibana);
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
  const bodies = kibanaRules(rules);
  const items: PlanItem[] = [];
  const toImport: KibanaRule[] = [];
  for (const body of bodies) {
    const url = new URL(`${base}/api/detection_engine/rules`);
    url.searchParams.set('rule_id', body.rule_id);
    const response = await call('kibana', url, { headers });
    if (response.status === 404) {
      items.push({ id: body.rule_id, name: body.name, change: 'created' });
      toImport.push(body);
      continue;
    }
    if (!response.ok) await refuse('kibana', url, response);
    // Kibana bumps `version` on every update itself, so it is not part of the comparison.
    const { version: _version, ...managed } = body;
    const fields = differingKeys(managed, (await response.json()) as Record<string, unknown>);
    items.push({
      id: body.rule_id,
      name: body.name,
      change: fields.length ? 'updated' : 'unchanged',
      ...(fields.length ? { fields } : {}),
    });
    if (fields.length) toImport.push(body);
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
  return rules
    .filter((r) => r.kind === 'correlation' || r.generate)
    .map((rule) => {
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

export async function installSplunk(
  rules: readonly Rule[],
  options: SplunkInstallOptions,
): Promise<InstallReport> {
  const app = options.app ?? SPLUNK_APP;
  const base = `${options.url.replace(/\/+$/, '')}/servicesNS/nobody/${encodeURIComponent(app)}/saved/searches`;
  const headers = authHeader(options.auth, 'Bearer');
  const items: PlanItem[] = [];
  for (const search of splunkSavedSearches(rules, options)) {
    const url = new URL(`${base}/${encodeURIComponent(search.name)}`);
    url.searchParams.set('output_mode', 'json');
    const response = await call('splunk', url, { headers });
    let change: Change;
    let fields: string[] | undefined;
    if (response.status === 404) change = 'created';
    else {
      if (!response.ok) await refuse('splunk', url, response);
      const body = (await response.json()) as { entry?: { content?: Record<string, unknown> }[] };
      const content = body.entry?.[0]?.content ?? {};
      // Splunk returns every value as it stores it; compare as text.
      const existing = Object.fromEntries(
        Object.entries(content).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v)]),
      );
      fields = differingKeys(search.fields, existing);
      change = fields.length ? 'updated' : 'unchanged';
    }
    items.push({ id: search.id, name: search.name, change, ...(fields?.length ? { fields } : {}) });
    if (options.dryRun || change === 'unchanged') continue;
    const target =
      change === 'created' ? new URL(base) : new URL(`${base}/${encodeURIComponent(search.name)}`);
    target.searchParams.set('output_mode', 'json');
    const form = new URLSearchParams(
      change === 'created' ? { name: search.name, ...search.fields } : search.fields,
    );
    const write = await call('splunk', target, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    if (!write.ok) await refuse('splunk', target, write);
  }
  return { target: 'splunk', dryRun: Boolean(options.dryRun), items };
}
