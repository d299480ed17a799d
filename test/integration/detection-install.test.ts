import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CIM_EVENTTYPES } from '../../src/detection/cim-eventtypes.js';
import { loadRules, type Rule } from '../../src/detection/index.js';
import { installKibana, installSplunk } from '../../src/detection/install.js';
import { type FakeSiem, startFakeSiem } from './support/fake-siem-api.js';

const rulesDir = fileURLToPath(new URL('../../rules/', import.meta.url));
const credentials = { kibanaApiKey: 'a2liYW5hLWtleQ==', splunkToken: 'splunk-token-1' };

let rules: Rule[];
let siem: FakeSiem;

beforeAll(async () => {
  rules = await loadRules(rulesDir);
});
beforeEach(async () => {
  await siem?.close();
  siem = await startFakeSiem(credentials);
});
afterAll(async () => {
  await siem?.close();
});

const alerting = () => rules.filter((r) => r.kind === 'correlation' || r.generate).length;
const writes = () => siem.calls.filter((c) => c.method === 'POST');

describe('Kibana installer', () => {
  const install = (dryRun = false) =>
    installKibana(rules, { url: siem.url, auth: { apiKey: credentials.kibanaApiKey }, dryRun });

  it('dry run reports every rule as created and writes nothing', async () => {
    const report = await install(true);
    expect(report.items.every((i) => i.change === 'created')).toBe(true);
    expect(report.items).toHaveLength(alerting());
    expect(writes()).toEqual([]);
    expect(siem.violations).toEqual([]);
  });

  it('imports every rule once, then finds nothing to do', async () => {
    await install();
    expect(siem.kibanaRules.size).toBe(alerting());
    expect(writes()).toHaveLength(1);
    expect(writes()[0]?.path).toBe('/api/detection_engine/rules/_import');
    const again = await install();
    expect(again.items.every((i) => i.change === 'unchanged')).toBe(true);
    expect(writes()).toHaveLength(1);
    expect(siem.violations).toEqual([]);
  });

  it('re-imports only the rule that drifted, naming the field', async () => {
    await install();
    const [id, rule] = [...siem.kibanaRules.entries()][0] as [string, Record<string, unknown>];
    siem.kibanaRules.set(id, { ...rule, risk_score: 1, query: 'event.action: *' });
    const report = await install();
    const changed = report.items.filter((i) => i.change !== 'unchanged');
    expect(changed).toEqual([{ id, name: rule.name, change: 'updated', fields: ['risk_score', 'query'] }]);
    expect(siem.kibanaRules.get(id)?.query).toBe(rule.query);
  });

  it('fails with a clear error when the credentials are refused', async () => {
    await expect(installKibana(rules, { url: siem.url, auth: { apiKey: 'wrong' } })).rejects.toThrow(
      /kibana: .* answered 401/,
    );
  });
});

describe('Splunk installer', () => {
  const install = (dryRun = false) =>
    installSplunk(rules, {
      url: siem.url,
      auth: { token: credentials.splunkToken },
      webhookUrl: 'https://asc.example.com:8443',
      webhookToken: 'receiver secret',
      dryRun,
    });

  it('creates every saved search in the app with the webhook token filled in, then is idempotent', async () => {
    const first = await install();
    expect(first.items.every((i) => i.change === 'created')).toBe(true);
    expect(siem.savedSearches.size).toBe(alerting());
    const paths = new Set(writes().map((c) => c.path));
    expect([...paths].filter((p) => p.includes('/saved/searches'))).toEqual([
      '/servicesNS/nobody/aws_siem_connector/saved/searches',
    ]);
    const one = [...siem.savedSearches.values()][0];
    expect(one?.['action.webhook.param.url']).toBe(
      'https://asc.example.com:8443/alerts/splunk?token=receiver%20secret',
    );
    const before = writes().length;
    const second = await install();
    expect(second.items.every((i) => i.change === 'unchanged')).toBe(true);
    expect(writes()).toHaveLength(before);
    expect(siem.violations).toEqual([]);
  });

  it('updates a changed saved search in place and dry run only reports it; a schedule the user changed is kept', async () => {
    await install();
    const [name, fields] = [...siem.savedSearches.entries()][0] as [string, Record<string, string>];
    const ours = fields.search;
    // Our search text drifted (an older connector version); the user moved the schedule.
    siem.savedSearches.set(name, { ...fields, search: 'index=main old', cron_schedule: '0 * * * *' });
    const before = writes().length;
    const planned = await install(true);
    expect(planned.items.filter((i) => i.change === 'updated')).toEqual([
      expect.objectContaining({ name, fields: ['search'] }),
    ]);
    expect(writes()).toHaveLength(before);
    await install();
    expect(writes().at(-1)?.path).toBe(
      `/servicesNS/nobody/aws_siem_connector/saved/searches/${encodeURIComponent(name)}`,
    );
    expect(siem.savedSearches.get(name)?.search).toBe(ours);
    expect(siem.savedSearches.get(name)?.cron_schedule).toBe('0 * * * *');
    expect(siem.violations).toEqual([]);
  });

  it('points every saved search at the indexes given, then finds nothing to do; without them, back again', async () => {
    await install();
    const withIndexes = (dryRun = false) =>
      installSplunk(rules, {
        url: siem.url,
        auth: { token: credentials.splunkToken },
        webhookUrl: 'https://asc.example.com:8443',
        webhookToken: 'receiver secret',
        indexes: ['aws_cloudtrail', 'aws_vpcflow'],
        dryRun,
      });
    const searches = (report: Awaited<ReturnType<typeof install>>) => report.items.filter((i) => !i.kind);
    const first = await withIndexes();
    expect(searches(first).every((i) => i.change === 'updated' && i.fields?.includes('search'))).toBe(true);
    for (const fields of siem.savedSearches.values()) {
      expect(fields.search).toContain(' index IN (aws_cloudtrail, aws_vpcflow) _index_earliest=');
    }
    expect(searches(await withIndexes()).every((i) => i.change === 'unchanged')).toBe(true);
    expect(searches(await install()).every((i) => i.change === 'updated')).toBe(true);
    expect(siem.violations).toEqual([]);
  });
});

describe('Splunk installer: CIM eventtypes and tags', () => {
  const install = (dryRun = false) =>
    installSplunk(rules, { url: siem.url, auth: { token: credentials.splunkToken }, dryRun });
  const app = '/servicesNS/nobody/aws_siem_connector';
  const cimItems = (report: Awaited<ReturnType<typeof install>>) => report.items.filter((i) => i.kind);

  it('dry run plans every eventtype and tags stanza as created and writes nothing', async () => {
    const report = await install(true);
    expect(cimItems(report)).toHaveLength(2 * CIM_EVENTTYPES.length);
    expect(cimItems(report).every((i) => i.change === 'created')).toBe(true);
    expect(writes()).toEqual([]);
    expect(siem.violations).toEqual([]);
  });

  it('creates them shared globally, with every tag enabled, then finds nothing to do', async () => {
    await install();
    expect([...siem.eventtypes.keys()]).toEqual(CIM_EVENTTYPES.map((e) => e.name));
    for (const e of CIM_EVENTTYPES) {
      expect(siem.eventtypes.get(e.name)).toEqual({
        content: { search: e.search, description: e.description },
        sharing: 'global',
      });
      expect(siem.tagStanzas.get(`eventtype=${e.name}`)).toEqual({
        content: Object.fromEntries(e.tags.map((t) => [t, 'enabled'])),
        sharing: 'global',
      });
    }
    expect(writes().filter((c) => c.path.endsWith('/acl'))).toHaveLength(2 * CIM_EVENTTYPES.length);
    const before = writes().length;
    const again = await install();
    expect(cimItems(again).every((i) => i.change === 'unchanged')).toBe(true);
    expect(writes()).toHaveLength(before);
    expect(siem.violations).toEqual([]);
  });

  it('puts a drifted search and a removed tag back, and keeps what the user disabled or added', async () => {
    await install();
    const [auth, , change] = CIM_EVENTTYPES as [
      (typeof CIM_EVENTTYPES)[0],
      unknown,
      (typeof CIM_EVENTTYPES)[0],
    ];
    // By hand since: the auth search edited and the eventtype disabled, `change` untagged on our stanza
    // with a tag of the user's beside it, and the change eventtype's tags narrowed to this app.
    const et = siem.eventtypes.get(auth.name)!;
    et.content = {
      ...et.content,
      search: 'sourcetype=aws:cloudtrail signature::ConsoleLogin',
      disabled: '1',
    };
    const changeTags = siem.tagStanzas.get(`eventtype=${change.name}`)!;
    changeTags.content = { change: 'disabled', audit: 'enabled' };
    changeTags.sharing = 'app';
    const authTags = siem.tagStanzas.get(`eventtype=${auth.name}`)!;
    authTags.content = {};

    const before = writes().length;
    const report = await install();
    expect(cimItems(report).filter((i) => i.change !== 'unchanged' || i.kept)).toEqual([
      { id: auth.name, name: auth.name, kind: 'eventtype', change: 'updated', fields: ['search'] },
      {
        id: `eventtype=${auth.name}`,
        name: `eventtype=${auth.name}`,
        kind: 'tags',
        change: 'updated',
        fields: ['authentication'],
      },
      {
        id: `eventtype=${change.name}`,
        name: `eventtype=${change.name}`,
        kind: 'tags',
        change: 'updated',
        fields: ['sharing'],
        kept: ['change'],
      },
    ]);
    expect(
      writes()
        .slice(before)
        .map((c) => c.path),
    ).toEqual([
      `${app}/saved/eventtypes/${auth.name}`,
      `${app}/configs/conf-tags/${encodeURIComponent(`eventtype=${auth.name}`)}`,
      `${app}/configs/conf-tags/${encodeURIComponent(`eventtype=${change.name}`)}/acl`,
    ]);
    expect(siem.eventtypes.get(auth.name)?.content).toMatchObject({ search: auth.search, disabled: '1' });
    expect(siem.tagStanzas.get(`eventtype=${auth.name}`)?.content).toEqual({ authentication: 'enabled' });
    expect(siem.tagStanzas.get(`eventtype=${change.name}`)).toEqual({
      content: { change: 'disabled', audit: 'enabled' },
      sharing: 'global',
    });
    expect(siem.violations).toEqual([]);
  });

  it('fails with a clear error when the credentials are refused', async () => {
    await expect(installSplunk([], { url: siem.url, auth: { token: 'wrong' } })).rejects.toThrow(
      /splunk: .*saved\/eventtypes\/aws_siem_connector_\w+ answered 401/,
    );
  });
});
