import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRules, type Rule } from '../../../src/detection/index.js';
import { type CaseResult, runRuleTests } from '../../../src/detection/testing.js';

const rulesDir = fileURLToPath(new URL('../../../rules/', import.meta.url));

let rules: Rule[];
let results: CaseResult[];

beforeAll(async () => {
  rules = await loadRules(rulesDir);
  results = await runRuleTests(rulesDir, rules);
});

describe('shipped rules', () => {
  it('has at least 40 alerting rules, each with positive and negative cases', () => {
    const alerting = rules.filter((r) => r.kind === 'correlation' || r.generate);
    expect(alerting.length).toBeGreaterThanOrEqual(40);
    for (const rule of alerting) {
      const mine = results.filter((r) => r.rule === rule.id);
      expect(
        mine.some((r) => r.kind === 'positive'),
        rule.title,
      ).toBe(true);
      expect(
        mine.some((r) => r.kind === 'negative'),
        rule.title,
      ).toBe(true);
    }
  });

  it('covers every CIS AWS Foundations monitoring control', () => {
    const cis = new Set(rules.flatMap((r) => r.tags.filter((t) => t.startsWith('cis.'))));
    for (const control of [
      'unauthorized-api-calls',
      'console-signin-without-mfa',
      'root-account-usage',
      'iam-policy-changes',
      'cloudtrail-configuration-changes',
      'console-authentication-failures',
      'cmk-disable-or-deletion',
      's3-bucket-policy-changes',
      'config-changes',
      'security-group-changes',
      'nacl-changes',
      'network-gateway-changes',
      'route-table-changes',
      'vpc-changes',
      'organizations-changes',
    ]) {
      expect(cis, control).toContain(`cis.aws-${control}`);
    }
  });

  it('every rule fires on each positive case and stays silent on each negative case', () => {
    const failures = results
      .filter((r) => !r.passed)
      .map(
        (r) =>
          `${r.file}: ${r.kind} '${r.name}' ${r.kind === 'positive' ? 'did not fire' : `fired ${r.alerts.length}x`}`,
      );
    expect(failures).toEqual([]);
  });

  it('alerts name every event that made a correlation fire', () => {
    const burst = results.find(
      (r) => r.file.endsWith('aws_console_login_failure_burst_per_source_ip.yml') && r.kind === 'positive',
    );
    expect(burst?.alerts).toHaveLength(1);
    expect(burst?.alerts[0]?.source_event_ids).toEqual(burst?.events.map((e) => e.id));
    expect(burst?.alerts[0]?.group).toEqual({ sourceIPAddress: '203.0.113.50' });
    expect(burst?.alerts[0]?.value).toBe(5);
  });
});
