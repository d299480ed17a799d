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
let kibanaReply: { status: number; body: unknown } = {
  status: 200,
  body: { success: true, successCount: 1 },
};

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
      if (u.pathname.endsWith('/api/saved_objects/_import'))
        return send(kibanaReply.status, kibanaReply.body);
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
});

describe('Kibana install', () => {
  it('imports every object once, multipart, with kbn-xsrf, overwrite and the API key', async () => {
    kibanaReply = { status: 200, body: { success: true, successCount: 10 } };
    const result = await installKibanaDashboards({
      url: base,
      space: 'security',
      credentials: { kind: 'token', token: 'k3y' },
    });
    expect(requests).toHaveLength(1);
    const r = requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.url).toBe('/s/security/api/saved_objects/_import?overwrite=true');
    expect(r.headers['kbn-xsrf']).toBeTruthy();
    expect(r.headers.authorization).toBe('ApiKey k3y');
    expect(r.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(r.body).toContain('name="file"; filename="aws-siem-connector.ndjson"');
    const { objects } = kibanaImportBody();
    expect(new Set(objects).size).toBe(objects.length);
    expect(objects.filter((o) => o.startsWith('index-pattern:'))).toHaveLength(4);
    expect(result.steps.map((s) => s.object)).toEqual(objects);
    for (const o of objects) expect(r.body).toContain(`"id":"${o.slice(o.indexOf(':') + 1)}"`);
  });

  it('dry run sends nothing', async () => {
    const result = await installKibanaDashboards({ url: base, dryRun: true });
    expect(requests).toHaveLength(0);
    expect(result.steps.every((s) => s.planned)).toBe(true);
  });

  it('reports the objects Kibana refused, with a stable code', async () => {
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
