import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { ENV_BINDINGS, loadConfig, resolveSecretArns } from '../../../src/config/index.js';
import { ProxyRoutes } from '../../../src/network/index.js';
import { evaluateTemplate, NO_VALUE } from './cloudformation-eval.js';
import { loadCloudFormation } from './policy-lint.js';

/**
 * What the consumer gets from each template: a Splunk-only stack (the default: no search node) loads a
 * config with the HEC sink and no search sink, and a search node brings the flavour with it.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
type Json = any;
const lambdaTemplate = loadCloudFormation(path.join(repo, 'deploy/cloudformation/template.yaml')) as Json;
const ecsTemplate = loadCloudFormation(path.join(repo, 'deploy/container/ecs-fargate.yaml')) as Json;
const mainTf = readFileSync(path.join(repo, 'deploy/terraform/main.tf'), 'utf8');

function lambdaEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const { value } = evaluateTemplate(lambdaTemplate, {
    CodeS3Bucket: 'code',
    CodeS3Key: 'asc.zip',
    ...overrides,
  });
  const vars = lambdaTemplate.Resources.ConsumerFunction.Properties.Environment.Variables as Record<
    string,
    Json
  >;
  return Object.fromEntries(
    Object.entries(vars)
      .map(([k, v]) => [k, value(v)])
      .filter(([, v]) => v !== NO_VALUE),
  );
}

function ecsEnv(overrides: Record<string, string> = {}): Record<string, string> {
  const { value } = evaluateTemplate(ecsTemplate, overrides);
  const container = ecsTemplate.Resources.TaskDefinition.Properties.ContainerDefinitions[0];
  const entries = (container.Environment as Json[]).map(value).filter((e) => e !== NO_VALUE);
  return Object.fromEntries(entries.map((e: Json) => [e.Name, e.Value]));
}

const HEC_URL = 'https://splunk.example.com:8088';
const SEARCH_NODE = 'https://search.example.com:9200';
const TOKEN_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:asc-hec-AbCdEf';

/** The config the consumer loads from an environment, its HEC token read from a fake Secrets Manager. */
async function consumerConfig(env: Record<string, string>) {
  const client = {
    send: async (_: GetSecretValueCommand) => ({ SecretString: '11111111-2222-3333-4444-555555555555\n' }),
  } as unknown as Parameters<typeof resolveSecretArns>[1];
  return loadConfig({ env: await resolveSecretArns(env, client) });
}

describe('the consumer environment (CloudFormation Lambda)', () => {
  const bound = new Set(ENV_BINDINGS.map((b) => b.env));

  it('sets only variables the connector reads', () => {
    const env = lambdaEnv({ SearchNode: SEARCH_NODE });
    const unread = Object.keys(env).filter(
      (n) => n.startsWith('ASC_') && !n.endsWith('_SECRET_ARN') && !bound.has(n),
    );
    expect(unread).toEqual([]);
  });

  it('Splunk only (no search node): no flavour, and a config with the HEC sink and no search sink', async () => {
    const env = lambdaEnv({ HecUrls: HEC_URL, HecTokenSecretArn: TOKEN_ARN });
    expect(env).not.toHaveProperty('ASC_SEARCH_FLAVOUR');
    const config = await consumerConfig(env);
    expect(config.sinks.search).toBeUndefined();
    expect(config.sinks.hec?.urls).toEqual([HEC_URL]);
    expect(config.sinks.hec?.token).toBe('11111111-2222-3333-4444-555555555555');
  });

  it('HEC indexes: per log type over the default, unset when left empty', async () => {
    const env = lambdaEnv({
      HecUrls: HEC_URL,
      HecTokenSecretArn: TOKEN_ARN,
      HecIndex: 'aws',
      HecVpcFlowIndex: 'aws_vpcflow',
    });
    const hec = (await consumerConfig(env)).sinks.hec;
    expect(hec?.index).toBe('aws');
    expect(hec?.indexes).toEqual({ vpcflow: 'aws_vpcflow' });
    const plain = (await consumerConfig(lambdaEnv({ HecUrls: HEC_URL, HecTokenSecretArn: TOKEN_ARN }))).sinks
      .hec;
    expect(plain?.index).toBeUndefined();
    expect(plain?.indexes).toEqual({});
  });

  it('a search node brings its flavour', async () => {
    const env = lambdaEnv({ SearchNode: SEARCH_NODE, SearchFlavour: 'opensearch' });
    expect(env.ASC_SEARCH_FLAVOUR).toBe('opensearch');
    const config = await consumerConfig(env);
    expect(config.sinks.search).toMatchObject({ flavour: 'opensearch', node: SEARCH_NODE });
  });
});

describe('a VPC and an egress proxy (CloudFormation Lambda)', () => {
  const PROXY = 'http://proxy.internal:3128';
  const lambda = (name: string) => lambdaTemplate.Resources[name].Properties as Json;

  it('gives both functions the proxy the connector reads, and its exceptions', () => {
    const env = lambdaEnv({ HttpsProxy: PROXY, NoProxy: 'splunk.internal,10.0.0.0/8' });
    const routes = ProxyRoutes.from(undefined, env);
    expect(routes.proxyFor(HEC_URL)?.href).toBe(`${PROXY}/`);
    expect(routes.proxyFor('https://hec.splunk.internal:8088')).toBeUndefined();
    expect(routes.proxyFor('https://10.1.2.3:9200')).toBeUndefined();
    const { value } = evaluateTemplate(lambdaTemplate, { HttpsProxy: PROXY, DeployWebhook: 'true' });
    expect(value(lambda('WebhookFunction').Environment.Variables.HTTPS_PROXY)).toBe(PROXY);
  });

  it('sets no proxy by default', () => {
    const env = lambdaEnv();
    expect(env).not.toHaveProperty('HTTPS_PROXY');
    expect(env).not.toHaveProperty('NO_PROXY');
  });

  it('attaches both functions to the subnets, and lets their roles create the network interfaces', () => {
    const { value } = evaluateTemplate(lambdaTemplate, {
      SubnetIds: 'subnet-a,subnet-b',
      SecurityGroupIds: 'sg-1',
      DeployWebhook: 'true',
    });
    for (const fn of ['ConsumerFunction', 'WebhookFunction']) {
      expect(value(lambda(fn).VpcConfig)).toEqual({
        SubnetIds: ['subnet-a', 'subnet-b'],
        SecurityGroupIds: ['sg-1'],
      });
    }
    for (const role of ['ConsumerRole', 'WebhookRole']) {
      expect(value(lambdaTemplate.Resources[role].Properties.ManagedPolicyArns)).toEqual([
        'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
      ]);
    }
  });

  it('polls the locations given, on the schedule, with its state in the dead-letter bucket', async () => {
    const env = lambdaEnv({
      HecUrls: HEC_URL,
      HecTokenSecretArn: TOKEN_ARN,
      PollLocations: 's3://archive/AWSLogs/o-abc/',
    });
    const config = await consumerConfig(env);
    expect(config.source.s3Poll).toMatchObject({
      locations: ['s3://archive/AWSLogs/o-abc/'],
      stateS3: 's3://asc-deadletterbucket-1a2b3c4d/poll-state/',
    });
    const { condition, value } = evaluateTemplate(lambdaTemplate, { PollLocations: 's3://archive/AWSLogs/' });
    const rule = lambdaTemplate.Resources.PollScheduleRule;
    expect(condition(rule.Condition)).toBe(true);
    expect(value(rule.Properties.ScheduleExpression)).toBe('rate(1 minute)');
    expect(rule.Properties.Targets[0].Arn).toEqual({ 'Fn::GetAtt': ['ConsumerFunction', 'Arn'] });
    expect(lambdaTemplate.Resources.PollSchedulePermission.Properties.SourceArn).toEqual({
      'Fn::GetAtt': ['PollScheduleRule', 'Arn'],
    });
    const statements = (
      lambdaTemplate.Resources.ConsumerRole.Properties.Policies[0].PolicyDocument.Statement as Json[]
    )
      .map((st) => ('Fn::If' in st ? (condition(st['Fn::If'][0]) ? st['Fn::If'][1] : undefined) : st))
      .filter(Boolean)
      .map((st) => st.Sid);
    expect(statements).toEqual(expect.arrayContaining(['ListLogObjects', 'KeepPollState']));
  });

  it('does not poll by default', () => {
    const env = lambdaEnv({ HecUrls: HEC_URL });
    expect(env.ASC_S3_POLL_LOCATIONS).toBeUndefined();
    expect(env.ASC_S3_POLL_STATE_S3).toBeUndefined();
    const { condition } = evaluateTemplate(lambdaTemplate, {});
    expect(condition('HasPoll')).toBe(false);
  });

  it('runs outside a VPC by default', () => {
    const { value } = evaluateTemplate(lambdaTemplate, {});
    expect(value(lambda('ConsumerFunction').VpcConfig)).toBe(NO_VALUE);
    expect(value(lambdaTemplate.Resources.ConsumerRole.Properties.ManagedPolicyArns)).toBe(NO_VALUE);
  });
});

describe('the consumer environment (ECS Fargate)', () => {
  const base = {
    Image: 'asc:1',
    QueueName: 'asc-notifications',
    LogBucketName: 'logs',
    DeadLetterBucketName: 'dl',
  };

  it('Splunk only: no flavour, and a config with no search sink', async () => {
    const env = ecsEnv({ ...base, HecUrls: HEC_URL });
    expect(env).not.toHaveProperty('ASC_SEARCH_FLAVOUR');
    // ECS injects the token itself (Secrets), stored with a trailing newline as often as not.
    const config = loadConfig({ env: { ...env, ASC_HEC_TOKEN: 'hec-token-1234\n' } });
    expect(config.sinks.search).toBeUndefined();
    expect(config.sinks.hec?.token).toBe('hec-token-1234');
    expect(config.source.sqs?.queueUrls).toEqual([
      'https://sqs.eu-west-1.amazonaws.com/111122223333/asc-notifications',
    ]);
  });

  it('an egress proxy reaches the consumer; the metadata and credential endpoints stay direct', () => {
    const env = ecsEnv({ ...base, HttpsProxy: 'http://proxy.internal:3128' });
    const routes = ProxyRoutes.from(undefined, env);
    expect(routes.proxyFor('https://sqs.eu-west-1.amazonaws.com')?.host).toBe('proxy.internal:3128');
    expect(routes.proxyFor('https://169.254.170.2/v2/credentials')).toBeUndefined();
    expect(ecsEnv(base)).not.toHaveProperty('HTTPS_PROXY');
  });

  it('a search node brings its flavour', () => {
    const env = ecsEnv({ ...base, SearchNode: SEARCH_NODE, SearchFlavour: 'opensearch' });
    expect(loadConfig({ env }).sinks.search).toMatchObject({ flavour: 'opensearch', node: SEARCH_NODE });
  });
  it('polls the locations given with its state in the dead-letter bucket, and lets the task list them', async () => {
    const env = ecsEnv({ ...base, HecUrls: HEC_URL, PollLocations: 's3://logs/AWSLogs/' });
    expect(env).toMatchObject({
      ASC_S3_POLL_LOCATIONS: 's3://logs/AWSLogs/',
      ASC_S3_POLL_STATE_S3: 's3://dl/poll-state/',
    });
    expect(ecsEnv({ ...base, HecUrls: HEC_URL }).ASC_S3_POLL_LOCATIONS).toBeUndefined();
    const { condition } = evaluateTemplate(ecsTemplate, { ...base, PollLocations: 's3://logs/AWSLogs/' });
    const sids = (ecsTemplate.Resources.TaskRole.Properties.Policies[0].PolicyDocument.Statement as Json[])
      .map((st) => ('Fn::If' in st ? (condition(st['Fn::If'][0]) ? st['Fn::If'][1] : undefined) : st))
      .filter(Boolean)
      .map((st) => st.Sid);
    expect(sids).toEqual(expect.arrayContaining(['ListLogObjects', 'KeepPollState']));
  });
});

describe('the consumer environment (Terraform)', () => {
  it('runs both functions in the subnets given, through the proxy given', () => {
    for (const fn of ['consumer', 'webhook']) {
      const start = mainTf.indexOf(`resource "aws_lambda_function" "${fn}"`);
      const block = mainTf.slice(start, mainTf.indexOf('\n}\n', start));
      expect(block).toMatch(/dynamic "vpc_config" \{\s+for_each = length\(var\.subnet_ids\) > 0/);
      expect(block).toMatch(/^\s*HTTPS_PROXY\s*=\s*var\.https_proxy\b/m);
      expect(block).toMatch(/^\s*NO_PROXY\s*=\s*var\.no_proxy\b/m);
    }
    expect(mainTf.match(/AWSLambdaVPCAccessExecutionRole/g)).toHaveLength(2);
  });

  it('polls the locations given, on a schedule, with its state in the dead-letter bucket', () => {
    const start = mainTf.indexOf('resource "aws_lambda_function" "consumer"');
    const consumer = mainTf.slice(start, mainTf.indexOf('\n}\n', start));
    expect(consumer).toMatch(/^\s*ASC_S3_POLL_LOCATIONS\s*=\s*join\(",", var\.poll_locations\)/m);
    expect(consumer).toMatch(/^\s*ASC_S3_POLL_STATE_S3\s*=.*poll-state\//m);
    for (const resource of [
      'aws_cloudwatch_event_rule" "poll"',
      'aws_cloudwatch_event_target" "poll"',
      'aws_lambda_permission" "poll"',
      'aws_iam_role_policy" "consumer_poll"',
    ]) {
      const at = mainTf.indexOf(`resource "${resource}`);
      expect(at).toBeGreaterThan(-1);
      expect(mainTf.slice(at, mainTf.indexOf('\n}\n', at))).toMatch(
        /count\s*= length\(var\.poll_locations\) > 0 \? 1 : 0/,
      );
    }
  });

  it('sets the flavour only when a search node is given', () => {
    const block = mainTf.slice(mainTf.indexOf('resource "aws_lambda_function" "consumer"'));
    const line = /^\s*ASC_SEARCH_FLAVOUR\s*=\s*(.+)$/m.exec(block)?.[1];
    expect(line).toMatch(/^var\.search_node == "" \? "" : var\.search_flavour\b/);
  });
});
