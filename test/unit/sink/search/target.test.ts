import { describe, expect, it } from 'vitest';
import { createTargetResolver, templatePatterns, utcDay } from '../../../../src/sink/search/target.js';
import { config } from './support.js';

describe('search targets', () => {
  it("uses Elastic's data stream names with the configured namespace and op create", () => {
    const { target } = config({ target: { mode: 'datastream', namespace: 'prod' } });
    const resolver = createTargetResolver(target);
    expect(resolver.op).toBe('create');
    expect(resolver.indexFor('cloudtrail', {})).toBe('logs-aws.cloudtrail-prod');
    expect(resolver.indexFor('vpcflow', {})).toBe('logs-aws.vpcflow-prod');
    expect(templatePatterns(target, 'vpcflow')).toEqual(['logs-aws.vpcflow-*']);
  });

  it("with accountNamespaces, follows the namespace the mapping wrote for the document's account", () => {
    const { target } = config({
      target: { mode: 'datastream', namespace: 'prod', accountNamespaces: { '111122223333': 'tenant_a' } },
    });
    const resolver = createTargetResolver(target);
    expect(resolver.indexFor('vpcflow', { data_stream: { namespace: 'tenant_a' } })).toBe(
      'logs-aws.vpcflow-tenant_a',
    );
    expect(resolver.indexFor('cloudtrail', { data_stream: { namespace: 'prod' } })).toBe(
      'logs-aws.cloudtrail-prod',
    );
    expect(resolver.indexFor('cloudtrail', {})).toBe('logs-aws.cloudtrail-prod');
    expect(() =>
      config({ target: { mode: 'datastream', accountNamespaces: { '111122223333': 'Tenant A' } } }),
    ).toThrow(/lower-case letters/);
  });

  it("fills {account} with the record's account, `unknown` when it has none", () => {
    const { target } = config({
      target: { mode: 'index', pattern: 'aws-{logType}-{account}-{yyyy}.{MM}', op: 'index' },
    });
    const resolver = createTargetResolver(target);
    const doc = { '@timestamp': '2026-11-29T06:00:00Z' };
    expect(resolver.indexFor('cloudtrail', doc, '111122223333')).toBe('aws-cloudtrail-111122223333-2026.11');
    expect(resolver.indexFor('vpcflow', doc)).toBe('aws-vpcflow-unknown-2026.11');
    expect(resolver.actionLine('cloudtrail', 'e-1', doc, '111122223333')).toBe(
      '{"index":{"_index":"aws-cloudtrail-111122223333-2026.11","_id":"e-1"}}\n',
    );
    expect(templatePatterns(target, 'cloudtrail')).toEqual(['aws-cloudtrail-*-*.*']);
  });

  it('fills index patterns from the UTC day of @timestamp, falling back to now', () => {
    const { target } = config({
      target: { mode: 'index', pattern: 'siem-{logType}-{yyyy}-{MM}-{dd}', op: 'index' },
    });
    const resolver = createTargetResolver(target, () => Date.parse('2025-07-04T12:00:00Z'));
    expect(resolver.op).toBe('index');
    expect(resolver.indexFor('cloudtrail', { '@timestamp': '2024-02-29T23:30:00-01:00' })).toBe(
      'siem-cloudtrail-2024-03-01',
    );
    expect(resolver.indexFor('vpcflow', { '@timestamp': 1_700_000_000_000 })).toBe('siem-vpcflow-2023-11-14');
    expect(resolver.indexFor('vpcflow', { '@timestamp': 'garbage' })).toBe('siem-vpcflow-2025-07-04');
    expect(templatePatterns(target, 'cloudtrail')).toEqual(['siem-cloudtrail-*-*-*']);
  });

  it('escapes ids in the action line', () => {
    const resolver = createTargetResolver(config().target);
    const line = resolver.actionLine('cloudtrail', 'a"b\\c', {});
    expect(line.endsWith('\n')).toBe(true);
    expect(JSON.parse(line)).toEqual({ create: { _index: 'logs-aws.cloudtrail-default', _id: 'a"b\\c' } });
  });

  it('reads ISO and epoch timestamps', () => {
    expect(utcDay('2024-01-02T03:04:05.678Z')).toEqual({ yyyy: '2024', MM: '01', dd: '02' });
    expect(utcDay(undefined)).toBeUndefined();
  });
});
