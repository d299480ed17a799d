import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { routedFetch } from '../network/index.js';
import { DashboardInstallError } from './errors.js';
import { defaultDashboardsDir, renderDashboards } from './generate.js';
import { splunkPlan, viewHash, withViewRecord } from './splunk-record.js';

/**
 * Installs the generated dashboards. Kibana: reads every object (`_bulk_get`), then one multipart
 * `_import?overwrite=true` of only the objects missing or changed on our side and not edited by the user
 * since (see kibanaPlan; `force` overwrites those too). Splunk: per view, read it, then create (POST .../views) or
 * update (POST .../views/<name>) it when it is missing or ours changed, and the user did not edit it since
 * (see splunkPlan; `force` overwrites those too). `dryRun` sends nothing that changes the SIEM.
 */

export type Credentials =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  /** Kibana API key (base64 id:key, as Kibana shows it) or Splunk authentication token. */
  | { kind: 'token'; token: string };

/**
 * Why an object is kept. edited: it carries the record of our last install and changed since.
 * unrecorded: it carries no record (made by hand, installed by a release that kept none, or edited by
 * something that dropped the record; Kibana data views never have one) and differs from what we ship.
 */
export type KeepReason = 'edited' | 'unrecorded';

export interface InstallStep {
  object: string;
  /** `keep`: the user edited the object since our install; only `force` overwrites it. */
  action: 'create' | 'update' | 'unchanged' | 'keep';
  /** Set on `keep` steps. */
  reason?: KeepReason;
  /** True when the step was only planned (dry run). */
  planned: boolean;
}

export interface InstallResult {
  target: 'kibana' | 'splunk';
  url: string;
  steps: InstallStep[];
}

interface CommonOptions {
  url: string;
  credentials?: Credentials;
  dryRun?: boolean;
  /** Overwrite objects the user edited since our install too. */
  force?: boolean;
  dashboardsDir?: string;
  fetch?: typeof fetch;
}

export interface KibanaInstallOptions extends CommonOptions {
  /** Kibana space; the default space when absent. */
  space?: string;
}

export interface SplunkInstallOptions extends CommonOptions {
  /** The Splunk app that owns the views (shared with the detections' saved searches). */
  app: string;
  /**
   * Indexes every search of the views reads (`--splunk-index`). A view whose list changed differs from
   * the installed one, so it is updated like any other change of ours.
   */
  indexes?: readonly string[] | undefined;
}

function base(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw new DashboardInstallError(`not a URL: ${url}`, { cause, details: { url } });
  }
  if (u.username || u.password) {
    throw new DashboardInstallError('put credentials in the environment, not in the URL', {
      details: { url: `${u.protocol}//${u.host}` },
    });
  }
  return u;
}

function authHeader(
  credentials: Credentials | undefined,
  target: 'kibana' | 'splunk',
): Record<string, string> {
  if (!credentials || credentials.kind === 'none') return {};
  if (credentials.kind === 'basic') {
    const b64 = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    return { authorization: `Basic ${b64}` };
  }
  return {
    authorization: target === 'kibana' ? `ApiKey ${credentials.token}` : `Bearer ${credentials.token}`,
  };
}

async function send(
  doFetch: typeof fetch,
  url: URL,
  init: RequestInit,
  what: string,
): Promise<{ status: number; text: string }> {
  let res: Response;
  try {
    res = await doFetch(url, init);
  } catch (cause) {
    throw new DashboardInstallError(`${what}: ${url.origin} unreachable`, {
      cause,
      details: { url: url.origin + url.pathname },
    });
  }
  return { status: res.status, text: await res.text() };
}

function failure(what: string, url: URL, status: number, text: string): DashboardInstallError {
  return new DashboardInstallError(
    `${what}: HTTP ${status} from ${url.origin}${url.pathname}: ${text.slice(0, 500)}`,
    {
      details: { url: url.origin + url.pathname, status },
    },
  );
}

/** Every generated Kibana object, each type:id once (data views are shared by several dashboards). */
export function kibanaImportBody(dashboardsDir: string = defaultDashboardsDir()): {
  ndjson: string;
  objects: string[];
} {
  const seen = new Map<string, string>();
  for (const f of renderDashboards(dashboardsDir).filter((g) => g.path.startsWith('kibana/'))) {
    const onDisk = readFileSync(path.join(dashboardsDir, f.path), 'utf8');
    for (const line of onDisk.split('\n').filter(Boolean)) {
      const o = JSON.parse(line) as { type: string; id: string };
      const key = `${o.type}:${o.id}`;
      if (!seen.has(key)) seen.set(key, line);
    }
  }
  return { ndjson: `${[...seen.values()].join('\n')}\n`, objects: [...seen.keys()] };
}

/**
 * Whether an installed Kibana object is still as we left it. Each object we write carries, at the end of
 * its `description`, a record of two content hashes: of the object we generated and of the object as
 * Kibana stored it (its migrations may rewrite what we sent). `description` because it is the one free
 * text every dashboard, visualization and map keeps verbatim; Kibana's attribute schemas drop or refuse
 * keys of their own. Data views have no description: only the attributes we set are compared, and a data
 * view whose title or time field differs from ours is treated as the user's.
 */
const RECORD = /\s*\[aws-siem-connector ([0-9a-f]{16}) ([0-9a-f]{16})\]$/;
const DATA_VIEW_OWNED = ['title', 'name', 'timeFieldName', 'allowNoIndex'];

export interface SavedObject {
  type: string;
  id: string;
  attributes: Record<string, unknown>;
  references?: unknown[];
  error?: { statusCode?: number; message?: string };
}

function stable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stable);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, stable((value as Record<string, unknown>)[k])]),
    );
  return value;
}

function recordOf(o: SavedObject): { source: string; stored: string } | undefined {
  const m = typeof o.attributes.description === 'string' ? RECORD.exec(o.attributes.description) : null;
  return m ? { source: m[1] as string, stored: m[2] as string } : undefined;
}

/** Hash of what an object shows (attributes without our record, references), key order ignored. */
export function contentHash(o: SavedObject): string {
  const attributes = { ...o.attributes };
  if (typeof attributes.description === 'string')
    attributes.description = attributes.description.replace(RECORD, '');
  if (o.type === 'index-pattern')
    for (const k of Object.keys(attributes)) if (!DATA_VIEW_OWNED.includes(k)) delete attributes[k];
  const references = o.type === 'index-pattern' ? [] : (o.references ?? []);
  return createHash('sha256')
    .update(JSON.stringify(stable({ attributes, references })))
    .digest('hex')
    .slice(0, 16);
}

function withRecord(description: unknown, source: string, stored: string): string {
  const text = typeof description === 'string' ? description.replace(RECORD, '') : '';
  return `${text}${text ? '\n\n' : ''}[aws-siem-connector ${source} ${stored}]`;
}

/**
 * create: missing; unchanged: as we left it and ours did not change; update: ours changed and the user
 * did not edit it, or it shows exactly what we ship (or `force`); keep: edited in Kibana since our install
 * (or installed before records were kept), and not what we ship now, left alone without `force`.
 */
export function kibanaPlan(
  ours: SavedObject,
  installed: SavedObject | undefined,
  force: boolean,
): { action: InstallStep['action']; reason?: KeepReason } {
  if (!installed) return { action: 'create' };
  const source = contentHash(ours);
  const now = contentHash(installed);
  const record = recordOf(installed);
  if (record?.stored === now) return { action: record.source === source ? 'unchanged' : 'update' };
  // Showing exactly what we ship holds nothing of the user's, whatever its record says (a stale one, or
  // none: data views never carry one, anything else gets recorded now). As the Splunk views decide.
  if (now === source) return { action: !record && ours.type === 'index-pattern' ? 'unchanged' : 'update' };
  if (force) return { action: 'update' };
  return { action: 'keep', reason: record ? 'edited' : 'unrecorded' };
}

export async function installKibanaDashboards(opts: KibanaInstallOptions): Promise<InstallResult> {
  const root = base(opts.url);
  const doFetch = opts.fetch ?? routedFetch;
  const { ndjson } = kibanaImportBody(opts.dashboardsDir);
  const ours = ndjson
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SavedObject);
  const prefix = opts.space && opts.space !== 'default' ? `/s/${encodeURIComponent(opts.space)}` : '';
  const api = `${root.pathname.replace(/\/$/, '')}${prefix}/api/saved_objects`;
  const headers = {
    'kbn-xsrf': 'aws-siem-connector',
    ...authHeader(opts.credentials, 'kibana'),
  };
  const json = async (url: URL, body: unknown, what: string, method = 'POST') => {
    const res = await send(
      doFetch,
      url,
      { method, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) },
      what,
    );
    if (res.status < 200 || res.status >= 300) throw failure(what, url, res.status, res.text);
    return JSON.parse(res.text) as { saved_objects?: SavedObject[] };
  };

  // Read what is installed: objects we own and that changed are rewritten, nothing else.
  const getUrl = new URL(`${api}/_bulk_get`, root);
  const got = await json(
    getUrl,
    ours.map((o) => ({ type: o.type, id: o.id })),
    'Kibana saved objects read',
  );
  const installed = new Map<string, SavedObject>();
  for (const o of got.saved_objects ?? []) {
    if (o.error?.statusCode === 404) continue;
    if (o.error)
      throw failure('Kibana saved objects read', getUrl, o.error.statusCode ?? 500, o.error.message ?? '');
    installed.set(`${o.type}:${o.id}`, o);
  }
  const steps: InstallStep[] = ours.map((o) => {
    const { action, reason } = kibanaPlan(o, installed.get(`${o.type}:${o.id}`), !!opts.force);
    return { object: `${o.type}:${o.id}`, action, ...(reason ? { reason } : {}), planned: !!opts.dryRun };
  });
  const result: InstallResult = { target: 'kibana', url: root.origin, steps };
  const writes = ours.filter((_, i) => steps[i]?.action === 'create' || steps[i]?.action === 'update');
  if (opts.dryRun || writes.length === 0) return result;

  const url = new URL(`${api}/_import?overwrite=true`, root);
  const form = new FormData();
  const file = writes.map((o) => {
    if (o.type === 'index-pattern') return JSON.stringify(o);
    const attributes = {
      ...o.attributes,
      description: withRecord(o.attributes.description, contentHash(o), '0'.repeat(16)),
    };
    return JSON.stringify({ ...o, attributes });
  });
  form.append(
    'file',
    new Blob([`${file.join('\n')}\n`], { type: 'application/ndjson' }),
    'aws-siem-connector.ndjson',
  );
  const { status, text } = await send(
    doFetch,
    url,
    { method: 'POST', headers, body: form },
    'Kibana saved objects import',
  );
  if (status < 200 || status >= 300) throw failure('Kibana saved objects import', url, status, text);
  const body = JSON.parse(text) as {
    success?: boolean;
    successCount?: number;
    errors?: { type: string; id: string; error?: { type?: string; message?: string } }[];
  };
  if (!body.success) {
    const errors = (body.errors ?? []).map((e) =>
      `${e.type}:${e.id} ${e.error?.type ?? ''} ${e.error?.message ?? ''}`.trim(),
    );
    throw new DashboardInstallError(`Kibana refused ${errors.length} object(s): ${errors.join('; ')}`, {
      details: { url: url.origin + url.pathname, successCount: body.successCount ?? 0 },
    });
  }

  // Record what Kibana stored (after its migrations), so the next install can tell a user's edit from them.
  const recorded = writes.filter((o) => o.type !== 'index-pattern');
  if (recorded.length === 0) return result;
  const stored = await json(
    getUrl,
    recorded.map((o) => ({ type: o.type, id: o.id })),
    'Kibana saved objects read',
  );
  const updates = (stored.saved_objects ?? [])
    .filter((o) => !o.error)
    .map((o) => {
      const mine = recorded.find((r) => r.type === o.type && r.id === o.id) as SavedObject;
      return {
        type: o.type,
        id: o.id,
        attributes: { description: withRecord(o.attributes.description, contentHash(mine), contentHash(o)) },
      };
    });
  await json(new URL(`${api}/_bulk_update`, root), updates, 'Kibana saved objects record', 'PUT');
  return result;
}

/** The view's XML in a data/ui/views answer, undefined when the answer carries none. */
function viewData(text: string): string | undefined {
  let body: { entry?: { content?: Record<string, unknown> }[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return undefined;
  }
  const data = body.entry?.[0]?.content?.['eai:data'];
  return typeof data === 'string' ? data : undefined;
}

export async function installSplunkDashboards(opts: SplunkInstallOptions): Promise<InstallResult> {
  const root = base(opts.url);
  const doFetch = opts.fetch ?? routedFetch;
  const dir = opts.dashboardsDir ?? defaultDashboardsDir();
  const headers = { ...authHeader(opts.credentials, 'splunk') };
  const collection = `${root.pathname.replace(/\/$/, '')}/servicesNS/nobody/${encodeURIComponent(opts.app)}/data/ui/views`;
  const steps: InstallStep[] = [];

  const indexes = opts.indexes?.length ? opts.indexes : undefined;
  const views = renderDashboards(dir, { splunkIndexes: indexes }).filter((g) => g.path.startsWith('splunk/'));
  for (const f of views) {
    const name = path.basename(f.path, '.xml');
    const what = `Splunk view ${name}`;
    // Without indexes, the shipped file, as a hand import would install it; with them, the same source
    // rendered with their term in every search.
    const xml = indexes ? f.content : readFileSync(path.join(dir, f.path), 'utf8');
    const itemUrl = new URL(`${collection}/${encodeURIComponent(name)}?output_mode=json`, root);
    const read = async (): Promise<string | undefined> => {
      const res = await send(doFetch, itemUrl, { method: 'GET', headers }, what);
      if (res.status === 404) return undefined;
      if (res.status !== 200) throw failure(what, itemUrl, res.status, res.text);
      const data = viewData(res.text);
      // Without the XML there is nothing to tell the user's edits from ours by: refuse, overwrite nothing.
      if (data === undefined)
        throw failure(`${what}: no eai:data in the answer`, itemUrl, res.status, res.text);
      return data;
    };
    /** Writes the view; returns its XML as Splunk stored it (from the answer, else read back). */
    const write = async (url: URL, fields: Record<string, string>, step: string): Promise<string> => {
      const res = await send(
        doFetch,
        url,
        {
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(fields),
        },
        what,
      );
      if (res.status < 200 || res.status >= 300) throw failure(`${what} ${step}`, url, res.status, res.text);
      return viewData(res.text) ?? (await read()) ?? fields['eai:data']!;
    };

    const installed = await read();
    const { action, reason } = splunkPlan(xml, installed, !!opts.force);
    steps.push({ object: `view:${name}`, action, ...(reason ? { reason } : {}), planned: !!opts.dryRun });
    if (opts.dryRun || action === 'unchanged' || action === 'keep') continue;

    // Expect Splunk to store the XML as sent and name the stored hash up front; checked right after.
    const source = viewHash(xml);
    const data = withViewRecord(xml, source, source);
    const stored =
      action === 'create'
        ? await write(new URL(`${collection}?output_mode=json`, root), { name, 'eai:data': data }, action)
        : await write(itemUrl, { 'eai:data': data }, action);
    // If it stored something else, record that instead: otherwise our own view would look edited.
    const storedHash = viewHash(stored);
    if (storedHash !== source)
      await write(itemUrl, { 'eai:data': withViewRecord(stored, source, storedHash) }, 'record');
  }
  return { target: 'splunk', url: root.origin, steps };
}
