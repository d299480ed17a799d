import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';

const V4 = 'arn:aws:wafv2:eu-west-1:111122223333:regional/ipset/asc-blocked-v4/0f1e2d3c-4b5a-6978';
const V6 = 'arn:aws:wafv2:eu-west-1:111122223333:regional/ipset/asc-blocked-v6/1a2b3c4d-5e6f-7081';
const GLOBAL = 'arn:aws:wafv2:us-east-1:111122223333:global/ipset/asc-edge/9f8e7d6c-5b4a-3928';

describe('respond settings from the environment', () => {
  it('keeps dry run and every action off when nothing is set', () => {
    const { respond } = loadConfig({ env: {} });
    expect(respond.dryRun).toBe(true);
    expect(Object.values(respond.enabled)).toEqual([false, false, false]);
    expect(respond.stateS3).toBeUndefined();
  });

  it('turns dry run off and enables actions one by one', () => {
    const { respond } = loadConfig({
      env: {
        ASC_RESPOND_DRY_RUN: 'false',
        ASC_RESPOND_WAF_BLOCK_IP: 'true',
        ASC_RESPOND_IAM_DISABLE_USER: 'false',
        ASC_RESPOND_EC2_ISOLATE: '1',
      },
    });
    expect(respond.dryRun).toBe(false);
    expect(respond.enabled).toEqual({ 'waf-block-ip': true, 'iam-disable-user': false, 'ec2-isolate': true });
  });

  it('reads the IP sets from ARNs: name, id, and the scope from regional/global', () => {
    const regional = loadConfig({ env: { ASC_WAF_IP_SET_ARN: V4, ASC_WAF_IPV6_SET_ARN: V6 } }).respond.waf;
    expect(regional.ipv4Set).toEqual({ name: 'asc-blocked-v4', id: '0f1e2d3c-4b5a-6978' });
    expect(regional.ipv6Set).toEqual({ name: 'asc-blocked-v6', id: '1a2b3c4d-5e6f-7081' });
    expect(regional.scope).toBe('REGIONAL');
    const edge = loadConfig({ env: { ASC_WAF_IP_SET_ARN: GLOBAL } }).respond.waf;
    expect(edge).toMatchObject({
      ipv4Set: { name: 'asc-edge', id: '9f8e7d6c-5b4a-3928' },
      scope: 'CLOUDFRONT',
    });
  });

  it('names the key of an ARN that is not an IP set, and of sets in different scopes', () => {
    expect(() =>
      loadConfig({ env: { ASC_WAF_IP_SET_ARN: 'arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/x/y' } }),
    ).toThrow(
      /respond\.waf\.ipv4Set \(from ASC_WAF_IP_SET_ARN\): expected \{name, id\} or a WAFv2 IP set ARN/,
    );
    expect(() => loadConfig({ env: { ASC_WAF_IP_SET_ARN: V4, ASC_WAF_IPV6_SET_ARN: GLOBAL } })).toThrow(
      /respond\.waf\.ipv6Set \(from ASC_WAF_IPV6_SET_ARN\): the ARN names a CLOUDFRONT IP set, but the scope is REGIONAL/,
    );
  });

  it('sets where state and audit live', () => {
    const { respond } = loadConfig({
      env: { ASC_RESPOND_STATE_S3: 's3://asc-state/response-state', ASC_RESPOND_AUDIT_LOG: '-' },
    });
    expect(respond.stateS3).toBe('s3://asc-state/response-state');
    expect(respond.auditLog).toBe('-');
    expect(() => loadConfig({ env: { ASC_RESPOND_STATE_S3: 'asc-state/x' } })).toThrow(/respond\.stateS3/);
    expect(() =>
      loadConfig({
        env: { ASC_RESPOND_STATE_S3: 's3://asc-state/x', ASC_RESPOND_STATE_FILE: 'state.jsonl' },
      }),
    ).toThrow(/not both/);
  });

  it('sets how long finished records stay in the action store', () => {
    expect(loadConfig({ env: {} }).respond.stateRetentionDays).toBe(90);
    expect(loadConfig({ env: { ASC_RESPOND_STATE_RETENTION_DAYS: '30' } }).respond.stateRetentionDays).toBe(
      30,
    );
    expect(() => loadConfig({ env: { ASC_RESPOND_STATE_RETENTION_DAYS: 'ninety' } })).toThrow(
      /respond\.stateRetentionDays \(from ASC_RESPOND_STATE_RETENTION_DAYS\)/,
    );
  });

  it('sets the IAM paths and protected principals (comma-separated)', () => {
    const { iam } = loadConfig({
      env: {
        ASC_RESPOND_IAM_PATHS: '/humans/',
        ASC_RESPOND_IAM_PROTECTED_USERS: 'breakglass, ci-deployer',
        ASC_RESPOND_IAM_PROTECTED_ROLES: 'asc-webhook',
      },
    }).respond;
    expect(iam).toMatchObject({
      paths: ['/humans/'],
      protectedUsers: ['breakglass', 'ci-deployer'],
      protectedRoles: ['asc-webhook'],
    });
  });
});
