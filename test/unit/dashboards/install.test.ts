import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  installKibanaDashboards,
  installSplunkDashboards,
  kibanaImportBody,
} from '../../../src/dashboards/index.js';

/**
 * A small HTTP peer that records requests and answers like Kibana's _import and Splunk's data/ui/views
 * (no Kibana or Splunk can run here); it keeps Splunk views in memory so create → update → unchanged
 * can be observed.
 */
interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

let server: Server;
let base: string;
const requests: Recorded[] = [];
const views = new Map<string, string>();
/** Kibana's saved objects by type:id; the import stores them as a Kibana migration would rewrite them. */
const savedObjects = new Map<string, { type: string; id: string; attributes: Record<string, unknown> }>();
let kibanaReply: { status: number; body: unknown } | undefined;

function importedObjects(body: string) {
  return body
    .split(/\r?\n/)
    .filter((l) => l.startsWith('{"type"'))
    .map((l) => JSON.parse(l) as { type: string; id: string; attributes: Record<string, unknown> });
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const u = new URL(req.url!, 'http://x');
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (u.pathname.endsWith('/api/saved_objects/_import')) {
        if (kibanaReply) return send(kibanaReply.status, kibanaReply.body);
        const objects = importedObjects(body);
        for (const o of objects) {
          // Newer Kibanas migrate what they import: the stored form differs from what was sent.
          const attributes = o.type === 'dashboard' ? { ...o.attributes, migrated: true } : o.attributes;
          savedObjects.set(`${o.type}:${o.id}`, { ...o, attributes });
        }
        return send(200, { success: true, successCount: objects.length });
      }
      if (u.pathname.endsWith('/api/saved_objects/_bulk_get')) {
        const wanted = JSON.parse(body) as { type: string; id: string }[];
        return send(200, {
          saved_objects: wanted.map(
            (w) =>
              savedObjects.get(`${w.type}:${w.id}`) ?? {
                ...w,
                error: { statusCode: 404, message: 'Not Found' },
              },
          ),
        });
      }
      if (u.pathname.endsWith('/api/saved_objects/_bulk_update')) {
        for (const o of JSON.parse(body) as {
          type: string;
          id: string;
          attributes: Record<string, unknown>;
        }[]) {
          const key = `${o.type}:${o.id}`;
          const current = savedObjects.get(key)!;
          savedObjects.set(key, { ...current, attributes: { ...current.attributes, ...o.attributes } });
        }
        return send(200, { saved_objects: [] });
      }
      const m = /\/servicesNS\/nobody\/([^/]+)\/data\/ui\/views(?:\/([^/]+))?$/.exec(u.pathname);
      if (!m) return send(404, {});
      const name = m[2] && decodeURIComponent(m[2]);
      const form = new URLSearchParams(body);
      if (req.method === 'GET') {
        return views.has(name!)
          ? send(200, { entry: [{ content: { 'eai:data': views.get(name!) } }] })
          : send(404, {});
      }
      if (!name) {
        if (views.has(form.get('name')!)) return send(409, { messages: [{ text: 'exists' }] });
        views.set(form.get('name')!, form.get('eai:data')!);
        return send(201, {});
      }
      views.set(name, form.get('eai:data')!);
      return send(200, {});
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  requests.length = 0;
  kibanaReply = undefined;
});

describe('Kibana install', () => {
  it('creates every object once, multipart, with kbn-xsrf, overwrite and the API key', async () => {
    savedObjects.clear();
    const result = await installKibanaDashboards({
      url: base,
      space: 'security',
      credentials: { kind: 'token', token: 'k3y' },
    });
    const { objects } = kibanaImportBody();
    expect(new Set(objects).size).toBe(objects.length);
    expect(objects.filter((o) => o.startsWith('index-pattern:'))).toHaveLength(4);
    expect(result.steps.map((s) => s.object)).toEqual(objects);
    expect(result.steps.every((s) => s.action === 'create')).toBe(true);
    const r = requests.find((q) => q.url.includes('_import'))!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/s/security/api/saved_objects/_import?overwrite=true');
    expect(r.headers['kbn-xsrf']).toBeTruthy();
    expect(r.headers.authorization).toBe('ApiKey k3y');
    expect(r.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(r.body).toContain('name="file"; filename="aws-siem-connector.ndjson"');
    for (const o of objects) expect(r.body).toContain(`"id":"${o.slice(o.indexOf(':') + 1)}"`);
    expect(requests.every((q) => q.url.startsWith('/s/security/api/saved_objects/'))).toBe(true);
  });

  it('a second install changes nothing and a dry run reports every object unchanged', async () => {
    savedObjects.clear();
    await installKibanaDashboards({ url: base });
    requests.length = 0;
    const dry = await installKibanaDashboards({ url: base, dryRun: true });
    expect(dry.steps.every((s) => s.planned && s.action === 'unchanged')).toBe(true);
    expect(requests.map((r) => r.url)).toEqual(['/api/saved_objects/_bulk_get']);
    const again = await installKibanaDashboards({ url: base });
    expect(again.steps.every((s) => s.action === 'unchanged')).toBe(true);
    expect(requests.filter((r) => r.url.includes('_import'))).toHaveLength(0);
  });

  it('keeps an object the user edited unless --force, and updates one only we changed', async () => {
    savedObjects.clear();
    await installKibanaDashboards({ url: base });
    const [edited, ours] = [...savedObjects.keys()].filter((k) => k.startsWith('visualization:'));
    const user = savedObjects.get(edited!)!;
    savedObjects.set(edited!, { ...user, attributes: { ...user.attributes, title: 'my title' } });
    // An older release of ours: the record matches what is stored, the source hash does not.
    const old = savedObjects.get(ours!)!;
    const description = String(old.attributes.description).replace(
      /\[aws-siem-connector \w+/,
      '[aws-siem-connector 0123456789abcdef',
    );
    savedObjects.set(ours!, { ...old, attributes: { ...old.attributes, description } });

    requests.length = 0;
    const dry = await installKibanaDashboards({ url: base, dryRun: true });
    const actionOf = (r: typeof dry, o: string) => r.steps.find((s) => s.object === o)?.action;
    expect(actionOf(dry, edited!)).toBe('keep');
    expect(actionOf(dry, ours!)).toBe('update');
    expect(dry.steps.filter((s) => s.action !== 'unchanged')).toHaveLength(2);
    expect(requests.filter((r) => r.method === 'POST' && !r.url.endsWith('_bulk_get'))).toHaveLength(0);

    const run = await installKibanaDashboards({ url: base });
    expect(actionOf(run, edited!)).toBe('keep');
    const imported = importedObjects(requests.find((r) => r.url.includes('_import'))!.body);
    expect(imported.map((o) => `${o.type}:${o.id}`)).toEqual([ours]);
    expect(savedObjects.get(edited!)?.attributes.title).toBe('my title');

    const forced = await installKibanaDashboards({ url: base, force: true });
    expect(actionOf(forced, edited!)).toBe('update');
    expect(savedObjects.get(edited!)?.attributes.title).not.toBe('my title');
    const after = await installKibanaDashboards({ url: base, dryRun: true });
    expect(after.steps.every((s) => s.action === 'unchanged')).toBe(true);
  });

  it('dry run sends nothing that writes', async () => {
    savedObjects.clear();
    const result = await installKibanaDashboards({ url: base, dryRun: true });
    expect(requests.map((r) => r.url)).toEqual(['/api/saved_objects/_bulk_get']);
    expect(result.steps.every((s) => s.planned && s.action === 'create')).toBe(true);
    expect(savedObjects.size).toBe(0);
  });

  it('reports the objects Kibana refused, with a stable code', async () => {
    savedObjects.clear();
    kibanaReply = {
      status: 200,
      body: {
        success: false,
        successCount: 3,
        errors: [{ type: 'map', id: 'm1', error: { type: 'unknown' } }],
      },
    };
    await expect(installKibanaDashboards({ url: base })).rejects.toMatchObject({
      code: 'DASHBOARD_INSTALL_FAILED',
      message: expect.stringContaining('map:m1 unknown'),
    });
  });

  it('an HTTP error names the status and never echoes credentials', async () => {
    savedObjects.clear();
    kibanaReply = { status: 401, body: { message: 'unauthorized' } };
    const err = await installKibanaDashboards({
      url: base,
      credentials: { kind: 'basic', username: 'elastic', password: 's3cret-pw' },
    }).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'DASHBOARD_INSTALL_FAILED', details: { status: 401 } });
    expect(JSON.stringify(err) + (err as Error).message).not.toContain('s3cret-pw');
  });

  it('refuses credentials embedded in the URL', async () => {
    await expect(installKibanaDashboards({ url: 'http://u:p@127.0.0.1:1' })).rejects.toThrow(/environment/);
  });
});

describe('Splunk install', () => {
  it('creates, then updates only what changed, then leaves everything unchanged', async () => {
    views.clear();
    const first = await installSplunkDashboards({
      url: base,
      app: 'aws_siem',
      credentials: { kind: 'token', token: 'tok' },
    });
    expect(first.steps).toHaveLength(5);
    expect(first.steps.every((s) => s.action === 'create')).toBe(true);
    const create = requests.find((r) => r.method === 'POST')!;
    expect(create.url).toBe('/servicesNS/nobody/aws_siem/data/ui/views?output_mode=json');
    expect(create.headers.authorization).toBe('Bearer tok');
    expect(new URLSearchParams(create.body).get('eai:data')).toMatch(/^<dashboard version="2"/);
    expect(views.size).toBe(5);

    views.set('aws_siem_connector_vpc_flows', '<dashboard version="2"><label>old</label></dashboard>');
    requests.length = 0;
    const second = await installSplunkDashboards({ url: base, app: 'aws_siem' });
    expect(second.steps.filter((s) => s.action === 'update').map((s) => s.object)).toEqual([
      'view:aws_siem_connector_vpc_flows',
    ]);
    const update = requests.filter((r) => r.method === 'POST');
    expect(update.map((r) => r.url)).toEqual([
      '/servicesNS/nobody/aws_siem/data/ui/views/aws_siem_connector_vpc_flows?output_mode=json',
    ]);

    requests.length = 0;
    const third = await installSplunkDashboards({ url: base, app: 'aws_siem' });
    expect(third.steps.every((s) => s.action === 'unchanged')).toBe(true);
    expect(requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('dry run reads but never writes', async () => {
    views.clear();
    const result = await installSplunkDashboards({ url: base, app: 'search', dryRun: true });
    expect(result.steps.every((s) => s.planned && s.action === 'create')).toBe(true);
    expect(requests.every((r) => r.method === 'GET')).toBe(true);
    expect(views.size).toBe(0);
  });
});
