import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { dashboardsInstallCommand } from '../../../src/commands/dashboards.js';
import { fakeSplunkViews, serveFakeSplunk } from '../dashboards/fake-splunk-views.js';
import { viewSearches } from '../dashboards/view-searches.js';

const splunk = fakeSplunkViews();
let peer: Awaited<ReturnType<typeof serveFakeSplunk>>;

beforeAll(async () => {
  peer = await serveFakeSplunk(splunk);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await peer.close();
});
beforeEach(() => {
  // Credentials come from the environment only; none here.
  for (const k of ['ASC_SPLUNK_TOKEN', 'ASC_SPLUNK_USERNAME', 'ASC_SPLUNK_PASSWORD']) vi.stubEnv(k, '');
  splunk.views.clear();
  peer.requests.length = 0;
});

const VPC = 'aws_siem_connector_vpc_flows';
const IAM = 'aws_siem_connector_iam_security_changes';

async function install(
  opts: { dryRun?: boolean; force?: boolean; splunkIndex?: string } = {},
): Promise<string[]> {
  const lines: string[] = [];
  await dashboardsInstallCommand({ splunk: peer.base, app: 'search', ...opts }, (l) => lines.push(l));
  return lines;
}

describe('dashboards install (Splunk)', () => {
  it('keeps the views the user changed, says which and why, and --force overwrites them', async () => {
    expect(await install()).toContain('splunk summary: 5 create, 0 update, 0 unchanged, 0 keep');
    const edited = splunk.views.get(VPC)!.replace('<label>', '<label>Ours: ');
    splunk.views.set(VPC, edited);
    splunk.views.set(IAM, '<dashboard version="2"><label>Rebuilt by hand</label></dashboard>');

    const dry = await install({ dryRun: true });
    expect(dry).toContain(
      `splunk would keep view:${VPC} (edited in Splunk since the last install; --force overwrites it)`,
    );
    expect(dry.find((l) => l.startsWith(`splunk would keep view:${IAM}`))).toMatch(
      /no record of our install and not what we ship/,
    );
    expect(dry.at(-1)).toBe(
      `splunk summary (dry run): 0 create, 0 update, 3 unchanged, 2 keep; kept as the user's (--force overwrites them): edited in Splunk since the last install: view:${VPC}; no install record and not what we ship: view:${IAM}`,
    );

    peer.requests.length = 0;
    const run = await install();
    expect(run.at(-1)).toMatch(
      /^splunk summary: 0 create, 0 update, 3 unchanged, 2 keep; kept as the user's/,
    );
    expect(peer.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
    expect(splunk.views.get(VPC)).toBe(edited);

    const forced = await install({ force: true });
    expect(forced).toContain(`splunk update view:${VPC}`);
    expect(forced).toContain(`splunk update view:${IAM}`);
    expect(forced.at(-1)).toBe('splunk summary: 0 create, 2 update, 3 unchanged, 0 keep');
    expect(splunk.views.get(VPC)).not.toContain('Ours: ');
    expect((await install()).at(-1)).toBe('splunk summary: 0 create, 0 update, 5 unchanged, 0 keep');
  });

  it('--splunk-index restricts every search of the installed views; a new list is a change', async () => {
    await install({ splunkIndex: 'aws_cloudtrail,aws_vpcflow' });
    expect(splunk.views.size).toBe(5);
    for (const xml of splunk.views.values()) {
      const searches = viewSearches(xml);
      expect(searches.length).toBeGreaterThan(0);
      for (const q of searches) expect(q).toMatch(/^index IN \(aws_cloudtrail, aws_vpcflow\) sourcetype=/);
    }
    expect((await install({ splunkIndex: 'aws_cloudtrail,aws_vpcflow' })).at(-1)).toBe(
      'splunk summary: 0 create, 0 update, 5 unchanged, 0 keep',
    );
    expect((await install({ splunkIndex: 'aws_cloudtrail', dryRun: true })).at(-1)).toBe(
      'splunk summary (dry run): 0 create, 5 update, 0 unchanged, 0 keep',
    );
    expect((await install()).at(-1)).toBe('splunk summary: 0 create, 5 update, 0 unchanged, 0 keep');
    for (const xml of splunk.views.values()) {
      for (const q of viewSearches(xml)) expect(q).toMatch(/^index=\* sourcetype=/);
    }
  });

  it('a bad --splunk-index name is a usage error naming it, before anything is sent', async () => {
    await expect(install({ splunkIndex: 'aws_cloudtrail,Main' })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('"Main" is not a Splunk index name'),
    });
    await expect(install({ splunkIndex: ' , ' })).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('no index given'),
    });
    expect(peer.requests).toHaveLength(0);
    expect(splunk.views.size).toBe(0);
  });
});
