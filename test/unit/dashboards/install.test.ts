import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  defaultDashboardsDir,
  installKibanaDashboards,
  installSplunkDashboards,
  kibanaImportBody,
} from '../../../src/dashboards/index.js';
import { contentHash, kibanaPlan, type SavedObject } from '../../../src/dashboards/install.js';
import { splunkPlan, viewHash, viewRecord, withViewRecord } from '../../../src/dashboards/splunk-record.js';
import {
  type FakeSplunkViews,
  fakeSplunkViews,
  type Recorded,
  serveFakeSplunk,
} from './fake-splunk-views.js';
import { viewSearches } from './view-searches.js';

/**
 * A small HTTP peer that records requests and answers like Kibana's _import and Splunk's data/ui/views
 * (no Kibana or Splunk can run here; the Splunk part is fake-splunk-views.ts); it keeps saved objects
 * and views in memory so create → update → unchanged → keep can be observed.
 */
let peer: Awaited<ReturnType<typeof serveFakeSplunk>>;
let base: string;
let requests: Recorded[];
const splunk = fakeSplunkViews();
const views = splunk.views;
/** Kibana's saved objects by type:id; the import stores them as a Kibana migration would rewrite them. */
const savedObjects = new Map<string, { type: string; id: string; attributes: Record<string, unknown> }>();
let kibanaReply: { status: number; body: unknown } | undefined;

function importedObjects(body: string) {
  return body
    .split(/\r?\n/)
    .filter((l) => l.startsWith('{"type"'))
    .map((l) => JSON.parse(l) as { type: string; id: string; attributes: Record<string, unknown> });
}

/** Kibana's saved objects API, as far as the installer uses it; false for any other request. */
const handleKibana: FakeSplunkViews['handle'] = (_method, u, body, send) => {
  if (u.pathname.endsWith('/api/saved_objects/_import')) {
    if (kibanaReply) {
      send(kibanaReply.status, kibanaReply.body);
      return true;
    }
    const objects = importedObjects(body);
    for (const o of objects) {
      // Newer Kibanas migrate what they import: the stored form differs from what was sent.
      const attributes = o.type === 'dashboard' ? { ...o.attributes, migrated: true } : o.attributes;
      savedObjects.set(`${o.type}:${o.id}`, { ...o, attributes });
    }
    send(200, { success: true, successCount: objects.length });
    return true;
  }
  if (u.pathname.endsWith('/api/saved_objects/_bulk_get')) {
    const wanted = JSON.parse(body) as { type: string; id: string }[];
    send(200, {
      saved_objects: wanted.map(
        (w) =>
          savedObjects.get(`${w.type}:${w.id}`) ?? {
            ...w,
            error: { statusCode: 404, message: 'Not Found' },
          },
      ),
    });
    return true;
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
    send(200, { saved_objects: [] });
    return true;
  }
  return false;
};

beforeAll(async () => {
  peer = await serveFakeSplunk({
    handle: (method, u, body, send) =>
      handleKibana(method, u, body, send) || splunk.handle(method, u, body, send),
  });
  ({ base, requests } = peer);
});
afterAll(() => peer.close());
beforeEach(() => {
  requests.length = 0;
  kibanaReply = undefined;
  splunk.normalize = undefined;
  splunk.bareWrites = false;
  splunk.readReply = undefined;
});

describe('Kibana plan', () => {
  const titled = (title: string): SavedObject => ({
    type: 'visualization',
    id: 'v',
    attributes: { title, description: 'd' },
    references: [],
  });
  const ours = titled('T');
  const h = contentHash(ours);
  const recorded = (o: SavedObject, source: string, stored: string): SavedObject => ({
    ...o,
    attributes: { ...o.attributes, description: `d\n\n[aws-siem-connector ${source} ${stored}]` },
  });

  it('ours untouched is updated, the user’s is kept unless forced, exactly ours is refreshed', () => {
    const newer = titled('T2');
    expect(kibanaPlan(ours, undefined, false)).toEqual({ action: 'create' });
    expect(kibanaPlan(ours, recorded(ours, h, h), false)).toEqual({ action: 'unchanged' });
    expect(kibanaPlan(newer, recorded(ours, h, h), false)).toEqual({ action: 'update' });
    const edited = recorded(titled('mine'), h, h);
    expect(kibanaPlan(newer, edited, false)).toEqual({ action: 'keep', reason: 'edited' });
    expect(kibanaPlan(newer, edited, true)).toEqual({ action: 'update' });
    // A record that no longer matches what is stored, over content that is exactly what we ship now (the
    // user edited it into ours, or an install stopped before recording): nothing of theirs to keep.
    expect(kibanaPlan(newer, recorded(newer, h, 'ffffffffffffffff'), false)).toEqual({ action: 'update' });
    // No record: ours as it is gets recorded, anything else is kept; data views never carry one.
    expect(kibanaPlan(ours, ours, false)).toEqual({ action: 'update' });
    expect(kibanaPlan(newer, ours, false)).toEqual({ action: 'keep', reason: 'unrecorded' });
    const view: SavedObject = { type: 'index-pattern', id: 'p', attributes: { title: 'logs-*' } };
    expect(kibanaPlan(view, view, false)).toEqual({ action: 'unchanged' });
  });
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
    expect(dry.steps.find((s) => s.object === edited)?.reason).toBe('edited');
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

describe('Splunk view records', () => {
  const xml = '<dashboard version="2" theme="dark">\n  <label>T</label>\n</dashboard>\n';

  it('sit inside the root element as one XML comment and do not count in the content hash', () => {
    const recorded = withViewRecord(xml, 'aaaaaaaaaaaaaaaa', 'bbbbbbbbbbbbbbbb');
    const [open, comment] = recorded.split('\n');
    expect(open).toBe('<dashboard version="2" theme="dark">');
    expect(comment).toMatch(/^ {2}<!-- \[aws-siem-connector aaaaaaaaaaaaaaaa bbbbbbbbbbbbbbbb\] .* -->$/);
    // "--" is not allowed inside an XML comment.
    expect(comment!.trim().slice(4, -3)).not.toContain('--');
    expect(viewRecord(recorded)).toEqual({ source: 'aaaaaaaaaaaaaaaa', stored: 'bbbbbbbbbbbbbbbb' });
    expect(viewHash(recorded)).toBe(viewHash(xml));
    expect(viewRecord(xml)).toBeUndefined();
    // Re-recording replaces the record instead of adding one.
    const again = withViewRecord(recorded, 'cccccccccccccccc', 'dddddddddddddddd');
    expect(again.match(/aws-siem-connector \w{16}/g)).toHaveLength(1);
    expect(again.replace(/\r?\n[ \t]*<!--[\s\S]*?-->/, '')).toBe(xml);
  });

  it('plan: ours untouched is updated, the user’s is kept unless forced', () => {
    const h = viewHash(xml);
    const ours = withViewRecord(xml, h, h);
    const newer = xml.replace('<label>T</label>', '<label>T2</label>');
    expect(splunkPlan(xml, undefined, false)).toEqual({ action: 'create' });
    expect(splunkPlan(xml, ours, false)).toEqual({ action: 'unchanged' });
    expect(splunkPlan(newer, ours, false)).toEqual({ action: 'update' });
    const edited = ours.replace('<label>T</label>', '<label>mine</label>');
    expect(splunkPlan(newer, edited, false)).toEqual({ action: 'keep', reason: 'edited' });
    expect(splunkPlan(xml, edited, false)).toEqual({ action: 'keep', reason: 'edited' });
    expect(splunkPlan(newer, edited, true)).toEqual({ action: 'update' });
    // No record: ours as it is (installed before records) is recorded, anything else is kept.
    expect(splunkPlan(xml, xml, false)).toEqual({ action: 'update' });
    expect(splunkPlan(newer, xml, false)).toEqual({ action: 'keep', reason: 'unrecorded' });
    expect(splunkPlan(newer, xml, true)).toEqual({ action: 'update' });
  });
});

describe('Splunk install', () => {
  const VPC = 'aws_siem_connector_vpc_flows';
  const IAM = 'aws_siem_connector_iam_security_changes';
  const posts = () => requests.filter((r) => r.method === 'POST');
  const actionOf = (r: { steps: { object: string; action: string }[] }, view: string) =>
    r.steps.find((s) => s.object === `view:${view}`)?.action;

  it('creates every view with an install record, then leaves everything unchanged', async () => {
    views.clear();
    const first = await installSplunkDashboards({
      url: base,
      app: 'aws_siem',
      credentials: { kind: 'token', token: 'tok' },
    });
    expect(first.steps).toHaveLength(5);
    expect(first.steps.every((s) => s.action === 'create')).toBe(true);
    const create = posts()[0]!;
    expect(create.url).toBe('/servicesNS/nobody/aws_siem/data/ui/views?output_mode=json');
    expect(create.headers.authorization).toBe('Bearer tok');
    expect(new URLSearchParams(create.body).get('eai:data')).toMatch(/^<dashboard version="2"/);
    expect(posts()).toHaveLength(5);
    expect(views.size).toBe(5);
    for (const [name, data] of views) {
      const shipped = readFileSync(path.join(defaultDashboardsDir(), `splunk/${name}.xml`), 'utf8');
      expect(viewRecord(data)).toEqual({ source: viewHash(shipped), stored: viewHash(shipped) });
      expect(viewHash(data)).toBe(viewHash(shipped));
    }

    requests.length = 0;
    const again = await installSplunkDashboards({ url: base, app: 'aws_siem' });
    expect(again.steps.every((s) => s.action === 'unchanged')).toBe(true);
    expect(posts()).toHaveLength(0);
  });

  it('leaves a view the user edited as it is', async () => {
    views.clear();
    await installSplunkDashboards({ url: base, app: 'search' });
    const userXml = views.get(VPC)!.replace('</label>', ' (SOC copy)</label>');
    views.set(VPC, userXml);
    requests.length = 0;
    const run = await installSplunkDashboards({ url: base, app: 'search' });
    expect(actionOf(run, VPC)).toBe('keep');
    expect(views.get(VPC)).toBe(userXml);
    expect(posts()).toHaveLength(0);
  });

  it('updates a view only we changed, keeps the ones the user edited unless --force', async () => {
    views.clear();
    await installSplunkDashboards({ url: base, app: 'search' });
    // An older release of ours: the record matches what is stored, its source hash is not ours now.
    views.set(
      VPC,
      views.get(VPC)!.replace(/\[aws-siem-connector \w{16}/, '[aws-siem-connector 0123456789abcdef'),
    );
    // The user retitles a view in its XML (the record stays, and no longer matches).
    const userXml = views.get(IAM)!.replace(/<label>[^<]*<\/label>/, '<label>Our IAM view</label>');
    views.set(IAM, userXml);

    requests.length = 0;
    const dry = await installSplunkDashboards({ url: base, app: 'search', dryRun: true });
    expect(actionOf(dry, VPC)).toBe('update');
    expect(dry.steps.find((s) => s.object === `view:${IAM}`)).toEqual({
      object: `view:${IAM}`,
      action: 'keep',
      reason: 'edited',
      planned: true,
    });
    expect(dry.steps.filter((s) => s.action !== 'unchanged')).toHaveLength(2);
    expect(posts()).toHaveLength(0);

    const run = await installSplunkDashboards({ url: base, app: 'search' });
    expect(actionOf(run, IAM)).toBe('keep');
    expect(actionOf(run, VPC)).toBe('update');
    expect(posts().map((r) => r.url)).toEqual([
      `/servicesNS/nobody/search/data/ui/views/${VPC}?output_mode=json`,
    ]);
    expect(views.get(IAM)).toBe(userXml);

    const forced = await installSplunkDashboards({ url: base, app: 'search', force: true });
    expect(actionOf(forced, IAM)).toBe('update');
    expect(views.get(IAM)).not.toContain('Our IAM view');
    const after = await installSplunkDashboards({ url: base, app: 'search', dryRun: true });
    expect(after.steps.every((s) => s.action === 'unchanged')).toBe(true);
  });

  it('keeps a view without a record that is not ours, records one that is', async () => {
    views.clear();
    await installSplunkDashboards({ url: base, app: 'search' });
    // Saved afresh by an editor (no record), and one installed before records were kept (exactly ours).
    const theirs = '<dashboard version="2" theme="light"><label>AWS VPC flows (ours now)</label></dashboard>';
    views.set(VPC, theirs);
    views.set(IAM, readFileSync(path.join(defaultDashboardsDir(), `splunk/${IAM}.xml`), 'utf8'));

    requests.length = 0;
    const run = await installSplunkDashboards({ url: base, app: 'search' });
    expect(run.steps.find((s) => s.object === `view:${VPC}`)).toMatchObject({
      action: 'keep',
      reason: 'unrecorded',
    });
    expect(actionOf(run, IAM)).toBe('update');
    expect(posts().map((r) => r.url)).toEqual([
      `/servicesNS/nobody/search/data/ui/views/${IAM}?output_mode=json`,
    ]);
    expect(views.get(VPC)).toBe(theirs);
    expect(viewRecord(views.get(IAM)!)).toBeDefined();

    const again = await installSplunkDashboards({ url: base, app: 'search' });
    expect(actionOf(again, IAM)).toBe('unchanged');
    expect(actionOf(again, VPC)).toBe('keep');
  });

  it('records what Splunk stored when it rewrites the XML, so our views never look edited', async () => {
    views.clear();
    // A Splunk that re-indents what it stores, and answers writes without the entry (read back instead).
    splunk.normalize = (data) => data.replace(/^[ \t]+/gm, '');
    splunk.bareWrites = true;
    const first = await installSplunkDashboards({ url: base, app: 'search' });
    expect(first.steps.every((s) => s.action === 'create')).toBe(true);
    for (const data of views.values()) {
      expect(data).not.toMatch(/^ /m);
      expect(viewRecord(data)?.stored).toBe(viewHash(data));
    }

    requests.length = 0;
    const again = await installSplunkDashboards({ url: base, app: 'search' });
    expect(again.steps.every((s) => s.action === 'unchanged')).toBe(true);
    expect(posts()).toHaveLength(0);

    views.set(VPC, views.get(VPC)!.replace('<label>', '<label>Edited: '));
    const edited = await installSplunkDashboards({ url: base, app: 'search' });
    expect(actionOf(edited, VPC)).toBe('keep');
  });

  it('refuses an answer without the view XML instead of overwriting the view', async () => {
    views.clear();
    views.set(VPC, '<dashboard version="2"><label>someone else</label></dashboard>');
    splunk.readReply = { status: 200, body: { entry: [{ name: VPC, content: {} }] } };
    await expect(installSplunkDashboards({ url: base, app: 'search' })).rejects.toMatchObject({
      code: 'DASHBOARD_INSTALL_FAILED',
      message: expect.stringContaining('no eai:data'),
    });
    expect(posts().filter((r) => r.url.includes(VPC))).toHaveLength(0);
  });

  it('with indexes, every search of every view reads them; a changed list updates the views', async () => {
    views.clear();
    const first = await installSplunkDashboards({ url: base, app: 'search', indexes: ['aws_cloudtrail'] });
    expect(first.steps.every((s) => s.action === 'create')).toBe(true);
    const searchesOf = () => [...views.values()].flatMap(viewSearches);
    expect(searchesOf().length).toBeGreaterThanOrEqual(views.size);
    for (const q of searchesOf()) expect(q).toMatch(/^index IN \(aws_cloudtrail\) sourcetype=/);

    const same = await installSplunkDashboards({ url: base, app: 'search', indexes: ['aws_cloudtrail'] });
    expect(same.steps.every((s) => s.action === 'unchanged')).toBe(true);

    // A view the user edited is still theirs; the others follow the new list.
    const userXml = views.get(VPC)!.replace('</label>', ' (SOC copy)</label>');
    views.set(VPC, userXml);
    requests.length = 0;
    const changed = await installSplunkDashboards({
      url: base,
      app: 'search',
      indexes: ['aws_cloudtrail', 'tenant_a'],
    });
    expect(actionOf(changed, VPC)).toBe('keep');
    expect(changed.steps.filter((s) => s.action === 'update')).toHaveLength(4);
    expect(views.get(VPC)).toBe(userXml);
    for (const [name, data] of views) {
      if (name === VPC) continue;
      for (const q of viewSearches(data)) expect(q).toMatch(/^index IN \(aws_cloudtrail, tenant_a\) /);
    }

    // Without the option again: back to the shipped views, exactly (--force takes the edited one too).
    const back = await installSplunkDashboards({ url: base, app: 'search', force: true });
    expect(back.steps.every((s) => s.action === 'update')).toBe(true);
    for (const [name, data] of views) {
      const shipped = readFileSync(path.join(defaultDashboardsDir(), `splunk/${name}.xml`), 'utf8');
      expect(viewHash(data)).toBe(viewHash(shipped));
      for (const q of viewSearches(data)) expect(q).not.toContain('index IN');
    }
  });

  it('dry run reads but never writes', async () => {
    views.clear();
    const result = await installSplunkDashboards({ url: base, app: 'search', dryRun: true });
    expect(result.steps.every((s) => s.planned && s.action === 'create')).toBe(true);
    expect(requests.every((r) => r.method === 'GET')).toBe(true);
    expect(views.size).toBe(0);
  });
});
