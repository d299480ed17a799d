import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  compileKibana,
  compileSavedSearch,
  loadRules,
  type Rule,
  savedSearchName,
} from '../../../src/detection/index.js';
import { installKibana, installSplunk } from '../../../src/detection/install.js';

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

describe('Splunk rule install', () => {
  const splunkContent = (overrides: Record<string, unknown>) => ({
    entry: [{ content: { ...compileSavedSearch(rule), ...overrides } }],
  });

  it('a search the user disabled stays disabled and unchanged', async () => {
    const written = stubFetch(() => ({ status: 200, body: splunkContent({ disabled: true }) }));
    const report = await installSplunk([rule], { url: 'https://splunk.invalid:8089' });
    expect(report.items).toEqual([{ id: rule.id, name: savedSearchName(rule), change: 'unchanged' }]);
    expect(written).toHaveLength(0);
  });

  it('an update sends only what differs, never `disabled`, and keeps actions the user added', async () => {
    const written = stubFetch(() => ({
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
    const written = stubFetch(() => ({
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
