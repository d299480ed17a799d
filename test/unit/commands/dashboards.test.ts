import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { dashboardsInstallCommand } from '../../../src/commands/dashboards.js';
import { fakeSplunkViews, serveFakeSplunk } from '../dashboards/fake-splunk-views.js';

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

async function install(opts: { dryRun?: boolean; force?: boolean } = {}): Promise<string[]> {
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
});
