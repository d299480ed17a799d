import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DashboardInstallError } from './errors.js';
import { defaultDashboardsDir, renderDashboards } from './generate.js';

/**
 * Installs the generated dashboards. Kibana: one multipart `_import?overwrite=true` of every saved
 * object (idempotent by id). Splunk: per view, read it, then create (POST .../views) or update (POST
 * .../views/<name>) only when its XML differs. `dryRun` sends nothing that changes the SIEM.
 */

export type Credentials =
  | { kind: 'none' }
  | { kind: 'basic'; username: string; password: string }
  /** Kibana API key (base64 id:key, as Kibana shows it) or Splunk authentication token. */
  | { kind: 'token'; token: string };

export interface InstallStep {
  object: string;
  action: 'import' | 'create' | 'update' | 'unchanged';
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

export async function installKibanaDashboards(opts: KibanaInstallOptions): Promise<InstallResult> {
  const root = base(opts.url);
  const doFetch = opts.fetch ?? fetch;
  const { ndjson, objects } = kibanaImportBody(opts.dashboardsDir);
  const steps = objects.map((object) => ({ object, action: 'import' as const, planned: !!opts.dryRun }));
  const result: InstallResult = { target: 'kibana', url: root.origin, steps };
  if (opts.dryRun) return result;

  const prefix = opts.space && opts.space !== 'default' ? `/s/${encodeURIComponent(opts.space)}` : '';
  const url = new URL(
    `${root.pathname.replace(/\/$/, '')}${prefix}/api/saved_objects/_import?overwrite=true`,
    root,
  );
  const form = new FormData();
  form.append('file', new Blob([ndjson], { type: 'application/ndjson' }), 'aws-siem-connector.ndjson');
  const { status, text } = await send(
    doFetch,
    url,
    {
      method: 'POST',
      headers: { 'kbn-xsrf': 'aws-siem-connector', ...authHeader(opts.credentials, 'kibana') },
      body: form,
    },
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
  return result;
}

export async function installSplunkDashboards(opts: SplunkInstallOptions): Promise<InstallResult> {
  const root = base(opts.url);
  const doFetch = opts.fetch ?? fetch;
  const dir = opts.dashboardsDir ?? defaultDashboardsDir();
  const headers = { ...authHeader(opts.credentials, 'splunk') };
  const collection = `${root.pathname.replace(/\/$/, '')}/servicesNS/nobody/${encodeURIComponent(opts.app)}/data/ui/views`;
  const steps: InstallStep[] = [];

  for (const f of renderDashboards(dir).filter((g) => g.path.startsWith('splunk/'))) {
    const name = path.basename(f.path, '.xml');
    const xml = readFileSync(path.join(dir, f.path), 'utf8');
    const itemUrl = new URL(`${collection}/${encodeURIComponent(name)}?output_mode=json`, root);
    const current = await send(doFetch, itemUrl, { method: 'GET', headers }, `Splunk view ${name}`);
    let action: InstallStep['action'];
    if (current.status === 404) action = 'create';
    else if (current.status === 200) {
      const existing = (JSON.parse(current.text) as { entry?: { content?: Record<string, unknown> }[] })
        .entry?.[0]?.content?.['eai:data'];
      action = typeof existing === 'string' && existing.trim() === xml.trim() ? 'unchanged' : 'update';
    } else throw failure(`Splunk view ${name}`, itemUrl, current.status, current.text);

    steps.push({ object: `view:${name}`, action, planned: !!opts.dryRun });
    if (opts.dryRun || action === 'unchanged') continue;

    const url = action === 'create' ? new URL(`${collection}?output_mode=json`, root) : itemUrl;
    const form = new URLSearchParams(action === 'create' ? { name, 'eai:data': xml } : { 'eai:data': xml });
    const res = await send(
      doFetch,
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      },
      `Splunk view ${name}`,
    );
    if (res.status < 200 || res.status >= 300)
      throw failure(`Splunk view ${name} ${action}`, url, res.status, res.text);
  }
  return { target: 'splunk', url: root.origin, steps };
}
