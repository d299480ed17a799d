import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RuleInstallError } from '../../../src/detection/errors.js';
import {
  compileKibana,
  compileSavedSearch,
  loadRules,
  type Rule,
  savedSearchName,
} from '../../../src/detection/index.js';
import {
  type InstallReport,
  installKibana,
  installSplunk,
  type KnowledgeObject,
  splunkCimObjects,
} from '../../../src/detection/install.js';

/**
 * The installers against a fetch stub that answers like Kibana's detection engine and Splunk's
 * saved/searches (no SIEM runs here) and records what would be written.
 */
let rule: Rule;

beforeAll(async () => {
  const rules = await loadRules(fileURLToPath(new URL('../../../rules/', import.meta.url)));
  rule = rules.find((r) => r.name === 'aws_cloudtrail_logging_stopped') as Rule;
});

afterEach(() => {
  vi.unstubAllGlobals();
});

interface Written {
  url: string;
  body: string;
}

function stubFetch(answer: (url: URL) => { status: number; body: unknown }): Written[] {
  const written: Written[] = [];
  vi.stubGlobal('fetch', async (input: URL | string, init: RequestInit = {}) => {
    const url = new URL(String(input));
    if (init.method === 'POST') {
      const body =
        init.body instanceof FormData
          ? await (init.body.get('file') as Blob).text()
          : String(init.body ?? '');
      written.push({ url: url.pathname, body });
      return new Response(JSON.stringify({ success: true, errors: [] }), { status: 200 });
    }
    const { status, body } = answer(url);
    return new Response(JSON.stringify(body), { status });
  });
  return written;
}

const userState = {
  enabled: false,
  actions: [{ group: 'default', id: 'slack-connector', action_type_id: '.slack', params: { message: 'x' } }],
  exceptions_list: [{ id: 'l1', list_id: 'ops-maint', type: 'detection', namespace_type: 'single' }],
};

describe('Kibana rule install', () => {
  it('leaves a rule the user disabled, with actions and exceptions, alone when our content is unchanged', async () => {
    const installed = { ...compileKibana(rule), ...userState, id: 'abc', version: 3 };
    const written = stubFetch(() => ({ status: 200, body: installed }));
    const report = await installKibana([rule], { url: 'http://kibana.invalid' });
    expect(report.items).toEqual([{ id: rule.id, name: rule.title, change: 'unchanged' }]);
    expect(written).toHaveLength(0);
  });

  it('an update of our content keeps enabled, actions and exceptions as the user left them', async () => {
    const installed = { ...compileKibana(rule), ...userState, query: 'event.action:old', id: 'abc' };
    const written = stubFetch(() => ({ status: 200, body: installed }));
    const report = await installKibana([rule], { url: 'http://kibana.invalid' });
    expect(report.items[0]).toMatchObject({ change: 'updated', fields: ['query'] });
    expect(written).toHaveLength(1);
    const body = JSON.parse(written[0]?.body.trim() as string);
    expect(body.query).toBe(compileKibana(rule).query);
    expect(body.enabled).toBe(false);
    expect(body.actions).toEqual(userState.actions);
    expect(body.exceptions_list).toEqual(userState.exceptions_list);
  });

  it('a created rule is enabled and records the schedule it was given', async () => {
    const written = stubFetch(() => ({ status: 404, body: {} }));
    await installKibana([rule], { url: 'http://kibana.invalid' });
    const body = JSON.parse(written[0]?.body.trim() as string);
    expect(body.enabled).toBe(true);
    expect(body.meta).toEqual({ aws_siem_connector: { schedule: { interval: '5m', from: 'now-6m' } } });
  });

  it('keeps a schedule the user changed, and takes ours when only we changed it', async () => {
    const shipped = { aws_siem_connector: { schedule: { interval: '5m', from: 'now-6m' } } };
    // The user moved the rule to every 15 minutes after our install.
    let installed: Record<string, unknown> = {
      ...compileKibana(rule),
      interval: '15m',
      from: 'now-16m',
      meta: shipped,
    };
    const written = stubFetch(() => ({ status: 200, body: installed }));
    let report = await installKibana([rule], { url: 'http://kibana.invalid' });
    expect(report.items[0]).toMatchObject({ change: 'unchanged', kept: ['interval', 'from'] });
    expect(written).toHaveLength(0);

    // We shipped 10m once, the user never touched it: our 5m replaces it.
    installed = {
      ...compileKibana(rule),
      interval: '10m',
      from: 'now-11m',
      meta: { aws_siem_connector: { schedule: { interval: '10m', from: 'now-11m' } } },
    };
    report = await installKibana([rule], { url: 'http://kibana.invalid' });
    expect(report.items[0]).toMatchObject({ change: 'updated', fields: ['interval', 'from'] });
    expect(JSON.parse(written[0]?.body.trim() as string)).toMatchObject({ interval: '5m', from: 'now-6m' });
  });

  it("without a schedule record, a schedule older versions wrote is ours and any other the user's", async () => {
    let installed: Record<string, unknown> = { ...compileKibana(rule), interval: '15m' };
    const written = stubFetch(() => ({ status: 200, body: installed }));
    let report = await installKibana([rule], { url: 'http://kibana.invalid' });
    expect(report.items[0]).toMatchObject({ change: 'unchanged', kept: ['interval'] });
    installed = { ...compileKibana(rule), query: 'event.action:old', interval: '5m', from: 'now-6m' };
    report = await installKibana([rule], { url: 'http://kibana.invalid' });
    expect(report.items[0]).toMatchObject({ change: 'updated', fields: ['query'] });
    expect(report.items[0]?.kept).toBeUndefined();
    expect(written).toHaveLength(1);
  });

  it('dry run compares but writes nothing', async () => {
    const installed = { ...compileKibana(rule), ...userState, query: 'event.action:old' };
    const written = stubFetch(() => ({ status: 200, body: installed }));
    const report = await installKibana([rule], { url: 'http://kibana.invalid', dryRun: true });
    expect(report.items[0]?.change).toBe('updated');
    expect(written).toHaveLength(0);
  });
});

/** The knowledge object a Splunk REST path names, if it is one of our eventtypes or tags stanzas. */
function cimObjectAt(url: URL): KnowledgeObject | undefined {
  return splunkCimObjects().find((o) =>
    url.pathname.endsWith(`/${o.collection}/${encodeURIComponent(o.name)}`),
  );
}

/** Splunk's answer for one of our eventtypes or tags stanzas installed as we ship it. */
function asShipped(object: KnowledgeObject, content: Record<string, unknown> = {}, sharing = 'global') {
  return {
    status: 200,
    body: { entry: [{ name: object.name, acl: { sharing }, content: { ...object.fields, ...content } }] },
  };
}

/** Saved searches answered by `answer`, our eventtypes and tags as shipped (so they need nothing). */
function stubSplunk(answer: (url: URL) => { status: number; body: unknown }): Written[] {
  return stubFetch((url) => {
    const object = cimObjectAt(url);
    return object ? asShipped(object, { disabled: false }) : answer(url);
  });
}

const savedSearchItems = (report: InstallReport) => report.items.filter((i) => i.kind === undefined);

describe('Splunk rule install', () => {
  const splunkContent = (overrides: Record<string, unknown>) => ({
    entry: [{ content: { ...compileSavedSearch(rule), ...overrides } }],
  });

  it('a search the user disabled stays disabled and unchanged', async () => {
    const written = stubSplunk(() => ({ status: 200, body: splunkContent({ disabled: true }) }));
    const report = await installSplunk([rule], { url: 'https://splunk.invalid:8089' });
    expect(savedSearchItems(report)).toEqual([
      { id: rule.id, name: savedSearchName(rule), change: 'unchanged' },
    ]);
    expect(written).toHaveLength(0);
  });

  it('an update sends only what differs, never `disabled`, and keeps actions the user added', async () => {
    const written = stubSplunk(() => ({
      status: 200,
      body: splunkContent({ disabled: true, search: 'old', actions: 'webhook,email', 'action.email': '1' }),
    }));
    const report = await installSplunk([rule], { url: 'https://splunk.invalid:8089' });
    expect(report.items[0]).toMatchObject({ change: 'updated', fields: ['search'] });
    const form = new URLSearchParams(written[0]?.body);
    expect([...form.keys()]).toEqual(['search']);
    expect(form.get('search')).toBe(compileSavedSearch(rule).search);
  });

  it('keeps a schedule the user changed', async () => {
    const written = stubSplunk(() => ({
      status: 200,
      body: splunkContent({ cron_schedule: '0 * * * *', 'dispatch.earliest_time': '-65m@m' }),
    }));
    const report = await installSplunk([rule], { url: 'https://splunk.invalid:8089' });
    expect(report.items[0]).toMatchObject({
      change: 'unchanged',
      kept: ['cron_schedule', 'dispatch.earliest_time'],
    });
    expect(written).toHaveLength(0);
  });

  it('creates a missing search with every field, enabled', async () => {
    const written = stubFetch(() => ({ status: 404, body: {} }));
    const report = await installSplunk([rule], { url: 'https://splunk.invalid:8089' });
    expect(report.items[0]?.change).toBe('created');
    const form = new URLSearchParams(written[0]?.body);
    expect(form.get('name')).toBe(savedSearchName(rule));
    expect(form.get('disabled')).toBe('0');
  });
});

describe('Splunk CIM eventtypes and tags install', () => {
  const url = 'https://splunk.invalid:8089';
  const app = '/servicesNS/nobody/aws_siem_connector';
  const objects = splunkCimObjects();
  const form = (w: Written | undefined) => Object.fromEntries(new URLSearchParams(w?.body));
  const cimItems = (report: InstallReport) => report.items.filter((i) => i.kind !== undefined);

  it('installs an eventtype and a tags stanza per data model class, with the tags each model needs', () => {
    const eventtypes = objects.filter((o) => o.kind === 'eventtype');
    expect(eventtypes.length).toBeGreaterThanOrEqual(4);
    const tagSets = objects
      .filter((o) => o.kind === 'tags')
      .map((o) => Object.keys(o.fields).sort().join(' '));
    expect(tagSets).toEqual(
      expect.arrayContaining([
        'authentication',
        'authentication privileged',
        'change',
        'communicate network',
      ]),
    );
    for (const e of eventtypes) expect(objects.map((o) => o.name)).toContain(`eventtype=${e.name}`);
  });

  it('creates what is missing with all our fields, then shares it globally', async () => {
    const written = stubFetch(() => ({ status: 404, body: {} }));
    const report = await installSplunk([], { url });
    expect(cimItems(report)).toEqual(
      objects.map((o) => ({ id: o.name, name: o.name, kind: o.kind, change: 'created' })),
    );
    // Per object: the create, then its ACL.
    expect(written.map((w) => w.url)).toEqual(
      objects.flatMap((o) => [
        `${app}/${o.collection}`,
        `${app}/${o.collection}/${encodeURIComponent(o.name)}/acl`,
      ]),
    );
    const [eventtype, tags] = objects;
    expect(form(written[0])).toEqual({ name: eventtype!.name, ...eventtype!.fields });
    expect(form(written[1])).toEqual({ owner: 'nobody', sharing: 'global' });
    expect(form(written[2])).toEqual({ name: tags!.name, ...tags!.fields });
    expect(form(written[2])).toMatchObject({ authentication: 'enabled' });
  });

  it('leaves objects as we ship them alone, whether or not the user disabled the eventtype', async () => {
    const written = stubFetch((u) => asShipped(cimObjectAt(u)!, { disabled: true, priority: 5 }));
    const report = await installSplunk([], { url });
    expect(cimItems(report).every((i) => i.change === 'unchanged' && !i.fields && !i.kept)).toBe(true);
    expect(written).toHaveLength(0);
  });

  it('updates only what drifted, keeps a tag the user disabled and tags they added, and shares app-only objects', async () => {
    const [eventtype, tags] = objects as [KnowledgeObject, KnowledgeObject];
    const written = stubFetch((u) => {
      const object = cimObjectAt(u)!;
      // An older search, shared with the app alone; on its tags the user turned ours off and added one.
      if (object.name === eventtype.name)
        return asShipped(object, { search: 'sourcetype=aws:cloudtrail old' }, 'app');
      if (object.name === tags.name) return asShipped(object, { authentication: 'disabled', sso: 'enabled' });
      return asShipped(object);
    });
    const dry = await installSplunk([], { url, dryRun: true });
    expect(written).toHaveLength(0);
    const changed = cimItems(dry).filter((i) => i.change !== 'unchanged' || i.kept);
    expect(changed).toEqual([
      {
        id: eventtype.name,
        name: eventtype.name,
        kind: 'eventtype',
        change: 'updated',
        fields: ['search', 'sharing'],
      },
      { id: tags.name, name: tags.name, kind: 'tags', change: 'unchanged', kept: ['authentication'] },
    ]);

    await installSplunk([], { url });
    expect(written.map((w) => w.url)).toEqual([
      `${app}/saved/eventtypes/${eventtype.name}`,
      `${app}/saved/eventtypes/${eventtype.name}/acl`,
    ]);
    expect(form(written[0])).toEqual({ search: eventtype.fields.search });
    expect(form(written[1])).toEqual({ owner: 'nobody', sharing: 'global' });
  });

  it('a tag missing from our stanza is added back, alone', async () => {
    const tags = objects.find((o) => o.kind === 'tags' && 'communicate' in o.fields)!;
    const written = stubFetch((u) => {
      const object = cimObjectAt(u)!;
      return object.name === tags.name ? asShipped(object, { communicate: undefined }) : asShipped(object);
    });
    const report = await installSplunk([], { url });
    expect(cimItems(report).filter((i) => i.change !== 'unchanged')).toEqual([
      { id: tags.name, name: tags.name, kind: 'tags', change: 'updated', fields: ['communicate'] },
    ]);
    expect(written.map((w) => w.url)).toEqual([`${app}/configs/conf-tags/${encodeURIComponent(tags.name)}`]);
    expect(form(written[0])).toEqual({ communicate: 'enabled' });
  });

  it('a read Splunk refuses fails the install with the object it was reading', async () => {
    stubFetch((u) =>
      u.pathname.includes('/configs/conf-tags/')
        ? { status: 403, body: { messages: [{ type: 'ERROR', text: 'forbidden' }] } }
        : { status: 404, body: {} },
    );
    const install = installSplunk([], { url, dryRun: true });
    await expect(install).rejects.toThrow(RuleInstallError);
    await expect(install).rejects.toThrow(
      /splunk: .*\/configs\/conf-tags\/eventtype%3Daws_siem_connector_\w+ answered 403/,
    );
  });
});
