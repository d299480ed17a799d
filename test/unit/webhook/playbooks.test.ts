import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { Ec2IsolateResponder, parsePrincipal } from '../../../src/respond/index.js';
import { parseAlert, requestsFor } from '../../../src/webhook/index.js';

const dir = new URL('../../../examples/playbooks/', import.meta.url);
const load = (name: string) => loadConfig({ file: new URL(name, dir).pathname, env: {} });

/** Renders a template the way Kibana's webhook connector does: `{{x}}` JSON-string-escaped, `{{{x}}}` raw. */
function renderKibana(template: string, vars: Record<string, unknown>): string {
  const lookup = (path: string) =>
    path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], vars);
  return template
    .replace(/\{\{\{([\w.]+)\}\}\}/g, (_m, p: string) => JSON.stringify(lookup(p)))
    .replace(/\{\{([\w.]+)\}\}/g, (_m, p: string) => JSON.stringify(String(lookup(p) ?? '')).slice(1, -1));
}

describe('example playbooks', () => {
  it('brute force: a Kibana security-rule alert rendered by the documented template blocks the source', () => {
    const config = load('brute-force-waf-block.yml');
    expect(config.respond.dryRun).toBe(true);
    const template = readFileSync(new URL('kibana-webhook-body-security-rule.mustache', dir), 'utf8');
    const body = renderKibana(template, {
      rule: {
        id: 'eb705e72',
        name: 'Console sign-in failures burst from one source IP',
        tags: ['AWS', 'Credential Access'],
      },
      alert: { id: 'eb705e72', uuid: '5b0c…' },
      date: '2026-01-01T00:00:00Z',
      context: { alerts: [{ source: { ip: '45.155.204.10' }, event: { action: 'ConsoleLogin' } }] },
    });
    const parsed = parseAlert('kibana', JSON.parse(body));
    if ('error' in parsed) throw new Error(parsed.error);
    expect(parsed.alert.tags).toEqual(['AWS', 'Credential Access']);
    const { requests } = requestsFor(parsed.alert, config.webhook.policy, 20);
    expect(requests).toEqual([
      {
        action: 'waf-block-ip',
        target: '45.155.204.10',
        policy: 'brute force → WAF block',
        ttlSeconds: 86400,
      },
    ]);
  });

  it('brute force: an ES query rule alert rendered by the hits template', () => {
    const template = readFileSync(new URL('kibana-webhook-body-es-query-rule.mustache', dir), 'utf8');
    const body = renderKibana(template, {
      rule: { id: 'q1', name: 'aws_console_password_spray', tags: [] },
      alert: { id: 'query matched', uuid: 'u1' },
      context: {
        hits: [{ _index: 'logs-aws.cloudtrail-default', _source: { source: { ip: '45.155.204.11' } } }],
      },
    });
    const parsed = parseAlert('kibana', JSON.parse(body));
    if ('error' in parsed) throw new Error(parsed.error);
    const { requests } = requestsFor(parsed.alert, load('brute-force-waf-block.yml').webhook.policy, 20);
    expect(requests.map((r) => r.target)).toEqual(['45.155.204.11']);
  });

  it('backdoor key: a Splunk alert row names the user to disable', () => {
    const config = load('backdoor-key-disable-user.yml');
    const parsed = parseAlert('splunk', {
      sid: 'scheduler__admin__search__RMD5_at_1_1',
      search_name: 'IAM access key created for another user',
      result: {
        'requestParameters.userName': 'svc-backup',
        'userIdentity.arn': 'arn:aws:iam::123456789012:user/mallory',
      },
    });
    if ('error' in parsed) throw new Error(parsed.error);
    const { requests } = requestsFor(parsed.alert, config.webhook.policy, 20);
    expect(requests.map((r) => [r.action, r.target])).toEqual([['iam-disable-user', 'svc-backup']]);
    expect(config.respond.iam.protectedUsers).toContain('breakglass-admin');
  });

  it('stolen instance credentials: one session ARN names the instance to isolate and the role to revoke', () => {
    const config = load('stolen-instance-credentials-isolate.yml');
    const arn = 'arn:aws:sts::123456789012:assumed-role/web-role/i-0a1b2c3d4e5f60718';
    const parsed = parseAlert('generic', {
      id: 'a-1',
      rule: { name: 'EC2 instance credentials used from more than one address' },
      events: [{ aws: { cloudtrail: { user_identity: { arn } } } }],
    });
    if ('error' in parsed) throw new Error(parsed.error);
    const { requests } = requestsFor(parsed.alert, config.webhook.policy, 20);
    expect(requests.map((r) => r.action)).toEqual(['ec2-isolate', 'iam-disable-user']);
    const ec2 = new Ec2IsolateResponder({ ec2: {} as never, config: config.respond.ec2 });
    expect(ec2.normalise(requests[0]!.target)).toBe('i-0a1b2c3d4e5f60718');
    expect(parsePrincipal(requests[1]!.target)).toMatchObject({
      kind: 'role',
      name: 'web-role',
      account: '123456789012',
    });
  });
});
