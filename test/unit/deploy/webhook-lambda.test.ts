import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENV_BINDINGS, loadConfig } from '../../../src/config/index.js';
import { alertDocument } from '../../../src/observe/index.js';
import { type AuditEntry, StdoutAuditLog } from '../../../src/respond/index.js';
import { evaluateTemplate } from './cloudformation-eval.js';
import { loadCloudFormation } from './policy-lint.js';

/**
 * What a user deploying the webhook Lambda gets: every variable the templates set is read by the config,
 * the settings they produce are the ones the parameters say, the metric filters match the lines the
 * function writes, and the TTL sweep is scheduled.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
type Json = any;
const template = loadCloudFormation(path.join(repo, 'deploy/cloudformation/template.yaml')) as Json;
const mainTf = readFileSync(path.join(repo, 'deploy/terraform/main.tf'), 'utf8');

function webhookEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const { value } = evaluateTemplate(template, overrides);
  const vars = template.Resources.WebhookFunction.Properties.Environment.Variables as Record<string, Json>;
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(value(v))]));
}

const WAF_ARN = 'arn:aws:wafv2:eu-west-1:111122223333:regional/ipset/asc-blocked-v4/0f1e2d3c-aaaa-bbbb';
const WAF6_ARN = 'arn:aws:wafv2:eu-west-1:111122223333:regional/ipset/asc-blocked-v6/9a8b7c6d-cccc-dddd';

describe('the webhook Lambda environment (CloudFormation)', () => {
  const bound = new Set(ENV_BINDINGS.map((b) => b.env));

  it('sets only variables the connector reads', () => {
    const unread = Object.keys(webhookEnv()).filter(
      (name) => name.startsWith('ASC_') && !name.endsWith('_SECRET_ARN') && !bound.has(name),
    );
    expect(unread).toEqual([]);
  });

  it('sets only variables the connector reads (Terraform)', () => {
    const block = mainTf.slice(mainTf.indexOf('resource "aws_lambda_function" "webhook"'));
    const start = block.indexOf('variables = {');
    const vars = block.slice(start, block.indexOf('}\n  }', start)).match(/\bASC_\w+/g);
    expect(vars?.length).toBeGreaterThan(5);
    expect(vars!.filter((name) => !name.endsWith('_SECRET_ARN') && !bound.has(name))).toEqual([]);
  });

  it('keeps responses dry-run and the audit on stdout by default, with the store in the created bucket', () => {
    const env = webhookEnv();
    const config = loadConfig({ env });
    expect(config.respond.dryRun).toBe(true);
    expect(config.respond.enabled).toEqual({
      'waf-block-ip': false,
      'iam-disable-user': false,
      'ec2-isolate': false,
    });
    expect(config.respond.auditLog).toBe('-');
    expect(config.respond.stateS3).toBe('s3://asc-responsestatebucket-1a2b3c4d/response-state');
    expect(config.respond.iam.paths).toEqual([]);
    expect(config.respond.stateRetentionDays).toBe(90);
  });

  it('turns the parameters into live responses, the IP sets and an existing state bucket', () => {
    const env = webhookEnv({
      ResponseDryRun: 'false',
      WafIpSetArn: WAF_ARN,
      WafIpv6SetArn: WAF6_ARN,
      IamResponseUserPath: '/humans/',
      ResponseStateBucketName: 'my-state',
      ResponseStatePrefix: 'asc/state',
    });
    const config = loadConfig({ env });
    expect(config.respond.dryRun).toBe(false);
    expect(config.respond.enabled).toEqual({
      'waf-block-ip': true,
      'iam-disable-user': true,
      'ec2-isolate': false,
    });
    expect(config.respond.waf.ipv4Set).toEqual({ name: 'asc-blocked-v4', id: '0f1e2d3c-aaaa-bbbb' });
    expect(config.respond.waf.ipv6Set).toEqual({ name: 'asc-blocked-v6', id: '9a8b7c6d-cccc-dddd' });
    expect(config.respond.waf.scope).toBe('REGIONAL');
    expect(config.respond.stateS3).toBe('s3://my-state/asc/state');
  });

  it('limits IAM responses to the path the role is scoped to, and passes the state retention', () => {
    const config = loadConfig({
      env: webhookEnv({ IamResponseUserPath: '/humans/', ResponseStateRetentionDays: '30' }),
    });
    // The same path as the role's iam:* resources (user/humans/*, role/humans/*): the function refuses
    // the rest itself instead of failing on AccessDenied.
    expect(config.respond.iam.paths).toEqual(['/humans/']);
    expect(config.respond.stateRetentionDays).toBe(30);
    expect(template.Parameters.ResponseStateRetentionDays).toMatchObject({
      Type: 'Number',
      Default: 90,
      MinValue: 0,
    });
    expect(mainTf).toMatch(/ASC_RESPOND_IAM_PATHS\s+= var\.iam_response_user_path\b/);
    expect(mainTf).toMatch(
      /ASC_RESPOND_STATE_RETENTION_DAYS\s+= tostring\(var\.response_state_retention_days\)/,
    );
  });

  it('creates the state bucket versioned, encrypted and private, only when none is given', () => {
    const bucket = template.Resources.ResponseStateBucket;
    expect(bucket.Condition).toBe('CreateStateBucket');
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration).toHaveLength(1);
    expect(Object.values(bucket.Properties.PublicAccessBlockConfiguration)).toEqual([true, true, true, true]);
    expect(evaluateTemplate(template, {}).condition('CreateStateBucket')).toBe(true);
    expect(
      evaluateTemplate(template, { ResponseStateBucketName: 'mine' }).condition('CreateStateBucket'),
    ).toBe(false);
    expect(mainTf).toMatch(/resource "aws_s3_bucket_versioning" "response_state"/);
    expect(mainTf).toMatch(/resource "aws_s3_bucket_public_access_block" "response_state"/);
    expect(mainTf).toMatch(/resource "aws_s3_bucket_server_side_encryption_configuration" "response_state"/);
  });

  it('expires what the sweep deleted from the versioned state bucket, and nothing live', () => {
    // Deletes leave noncurrent versions and delete markers; live records are created once and never
    // overwritten, so a rule on noncurrent versions only never touches them.
    const rules = template.Resources.ResponseStateBucket.Properties.LifecycleConfiguration.Rules;
    expect(rules).toEqual([
      {
        Id: 'expire-deleted-response-records',
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        ExpiredObjectDeleteMarker: true,
      },
    ]);
    const tf = mainTf.slice(
      mainTf.indexOf('resource "aws_s3_bucket_lifecycle_configuration" "response_state"'),
    );
    const block = tf.slice(0, tf.indexOf('\n}\n'));
    expect(block).toMatch(/count\s+= local\.create_state_bucket \? 1 : 0/);
    expect(block).toMatch(/noncurrent_days = 30/);
    expect(block).toMatch(/expired_object_delete_marker = true/);
    expect(block).not.toMatch(/\n\s+days\s*=/); // no expiry of current (live) objects
  });
});

describe('the TTL sweep schedule', () => {
  it('CloudFormation: a schedule rule invokes the webhook function, and only that rule may', () => {
    const rule = template.Resources.SweepScheduleRule;
    expect(rule.Type).toBe('AWS::Events::Rule');
    expect(rule.Condition).toBe('WithWebhook');
    expect(rule.Properties.ScheduleExpression).toEqual({ Ref: 'SweepSchedule' });
    expect(template.Parameters.SweepSchedule.Default).toBe('rate(5 minutes)');
    expect(rule.Properties.Targets).toEqual([
      { Id: 'webhook-ttl-sweep', Arn: { 'Fn::GetAtt': ['WebhookFunction', 'Arn'] } },
    ]);
    const permission = template.Resources.SweepSchedulePermission.Properties;
    expect(permission).toEqual({
      Action: 'lambda:InvokeFunction',
      FunctionName: { Ref: 'WebhookFunction' },
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': ['SweepScheduleRule', 'Arn'] },
    });
  });

  it('Terraform: the same rule, target and permission', () => {
    expect(mainTf).toMatch(/schedule_expression = var\.sweep_schedule/);
    expect(mainTf).toMatch(/arn\s+= aws_lambda_function\.webhook\[0\]\.arn/);
    expect(mainTf).toMatch(/principal\s+= "events\.amazonaws\.com"/);
    expect(mainTf).toMatch(/source_arn\s+= aws_cloudwatch_event_rule\.sweep\[0\]\.arn/);
  });
});

/**
 * The subset of CloudWatch Logs JSON filter patterns the templates use: `{ TERM }` or `{ (TERM) && … }`,
 * TERM = `$.path = "value"` or `!=`, `*` a wildcard.
 */
function matches(pattern: string, line: string): boolean {
  let event: Json;
  try {
    event = JSON.parse(line);
  } catch {
    return false;
  }
  const body = /^\{\s*(.*?)\s*\}$/.exec(pattern.trim())![1]!;
  return body.split('&&').every((raw) => {
    const term = /^\(?\s*\$\.([\w.]+)\s*(!?=)\s*"([^"]*)"\s*\)?$/.exec(raw.trim());
    if (!term) throw new Error(`unsupported filter term ${raw}`);
    const [, field, op, expected] = term;
    const actual = field!.split('.').reduce<Json>((o, k) => (o == null ? undefined : o[k]), event);
    if (typeof actual !== 'string' && typeof actual !== 'number') return op === '!=';
    const re = new RegExp(`^${expected!.split('*').map(escapeRegex).join('.*')}$`);
    return re.test(String(actual)) === (op === '=');
  });
}
const escapeRegex = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

function auditLine(event: AuditEntry['event']): string {
  let line = '';
  new StdoutAuditLog((l) => {
    line = l;
  }).write({
    time: '2026-01-01T00:00:00.000Z',
    event,
    action: 'waf-block-ip',
    target: '45.155.204.10/32',
    alertId: 'a1',
    requester: { source: 'webhook:kibana', rule: 'brute force' },
    dryRun: false,
    changes: [],
  });
  return line.trimEnd();
}

describe('the metric filters match what the webhook Lambda writes', () => {
  const filters = (name: string): string[] => {
    const cfn = template.Resources[`${name}MetricFilter`].Properties.FilterPattern as string;
    const tf = new RegExp(`${name}\\s*=\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(mainTf)![1]!.replace(/\\"/g, '"');
    return [cfn, tf];
  };
  // A pino log line of the runner: the same action and status, but not an audit line.
  const logLine = JSON.stringify({
    level: 50,
    time: '2026-01-01T00:00:00.000Z',
    action: 'waf-block-ip',
    status: 'failed',
    msg: 'response action failed',
    entry: { requester: { source: 'webhook:kibana' }, event: 'failed' },
  });

  it.each([
    ['CloudFormation', 0],
    ['Terraform', 1],
  ])('%s: ResponseActions counts outcomes, not intents', (_, i) => {
    const pattern = filters('ResponseActions')[i]!;
    for (const event of ['applied', 'planned', 'failed', 'undone', 'skipped'] as const)
      expect(matches(pattern, auditLine(event)), event).toBe(true);
    for (const event of ['applying', 'undoing'] as const)
      expect(matches(pattern, auditLine(event)), event).toBe(false);
    expect(matches(pattern, logLine)).toBe(false);
  });

  it('ResponseActionFailures counts failed audit lines only, in both templates', () => {
    for (const pattern of filters('ResponseActionFailures')) {
      expect(matches(pattern, auditLine('failed'))).toBe(true);
      expect(matches(pattern, auditLine('applied'))).toBe(false);
      expect(matches(pattern, logLine)).toBe(false);
    }
  });

  it('AlertsReceived counts the alert line the function writes, in both templates', () => {
    const line = JSON.stringify(alertDocument({ rule: 'brute force', id: 'a1', route: 'kibana' }));
    for (const pattern of filters('AlertsReceived')) {
      expect(matches(pattern, line)).toBe(true);
      expect(matches(pattern, auditLine('applied'))).toBe(false);
    }
  });
});
