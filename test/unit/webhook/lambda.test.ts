import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { createWebhookLambda, isScheduledEvent } from '../../../src/webhook/lambda.js';
import { kibanaBody, receiver, TOKEN } from './helpers.js';

/** What EventBridge delivers for a rate(5 minutes) rule (AWS's documented sample, with our rule). */
const scheduled = () => ({
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-01-01T00:05:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/asc-ttl-sweep'],
  detail: {},
});

function httpEvent(body: unknown, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/alerts/kibana',
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST', path: '/alerts/kibana', sourceIp: '198.51.100.7' } },
  } as unknown as APIGatewayProxyEventV2;
}

function deps(dryRun = false) {
  const sweep = vi.fn(async () => []);
  const app = vi.fn(async () => (await receiver()).app);
  const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  return { sweep, app, log, handler: createWebhookLambda({ runner: { sweep }, app, dryRun, log }) };
}

describe('isScheduledEvent', () => {
  it('accepts the EventBridge Scheduled Event shape', () => {
    expect(isScheduledEvent(scheduled())).toBe(true);
  });

  it.each([
    ['another source', { source: 'custom.app' }],
    ['another detail type', { 'detail-type': 'EC2 Instance State-change Notification' }],
    ['a detail with content', { detail: { action: 'sweep' } }],
    ['no rule among the resources', { resources: [] }],
    ['a resource that is no ARN', { resources: ['rule/x'] }],
    ['another version', { version: '1' }],
    ['an extra key', { body: '{}' }],
    ['an HTTP request context', { requestContext: { http: { method: 'POST' } } }],
  ])('refuses %s', (_label, change) => {
    expect(isScheduledEvent({ ...scheduled(), ...change })).toBe(false);
  });

  it('refuses a missing key, non-objects, and a function URL request carrying the shape in its body', () => {
    const { detail: _detail, ...partial } = scheduled();
    expect(isScheduledEvent(partial)).toBe(false);
    expect(isScheduledEvent(null)).toBe(false);
    expect(isScheduledEvent([scheduled()])).toBe(false);
    expect(isScheduledEvent(httpEvent(scheduled()))).toBe(false);
  });
});

describe('the webhook Lambda handler', () => {
  it('sweeps on a scheduled event without building the app (no token needed) or parsing an alert', async () => {
    const { handler, sweep, app } = deps();
    expect(await handler(scheduled())).toEqual({ sweep: 'done', outcomes: [] });
    expect(sweep).toHaveBeenCalledTimes(1);
    expect(app).not.toHaveBeenCalled();
  });

  it('does not sweep in dry run, and says why', async () => {
    const { handler, sweep, log } = deps(true);
    expect(await handler(scheduled())).toMatchObject({
      sweep: 'skipped',
      reason: expect.stringContaining('dry run'),
    });
    expect(sweep).not.toHaveBeenCalled();
    expect(log.info).toHaveBeenCalled();
  });

  it('fails the invocation when the sweep fails, so Lambda counts the error', async () => {
    const { handler, sweep, log } = deps();
    sweep.mockRejectedValueOnce(new Error('AccessDenied'));
    await expect(handler(scheduled())).rejects.toThrow('AccessDenied');
    expect(log.error).toHaveBeenCalled();
  });

  it('sends HTTP requests through the app with its authentication, and never sweeps for them', async () => {
    const { handler, sweep, app } = deps();
    const refused = await handler(httpEvent(scheduled()));
    expect(refused).toMatchObject({ statusCode: 401 });
    const accepted = await handler(
      httpEvent(kibanaBody('45.155.204.10'), { authorization: `Bearer ${TOKEN}` }),
    );
    expect(accepted).toMatchObject({ statusCode: 202 });
    expect(app).toHaveBeenCalledTimes(1);
    expect(sweep).not.toHaveBeenCalled();
  });

  it('ignores any other event', async () => {
    const { handler, sweep, app, log } = deps();
    const answer = await handler({ ...scheduled(), 'detail-type': 'Object Created', source: 'aws.s3' });
    expect(answer).toMatchObject({ statusCode: 400 });
    expect(sweep).not.toHaveBeenCalled();
    expect(app).not.toHaveBeenCalled();
    expect(log.warn).toHaveBeenCalled();
  });

  it('builds the app again after a failed start', async () => {
    const { sweep, log } = deps();
    const app = vi
      .fn()
      .mockRejectedValueOnce(new Error('WEBHOOK_NO_SECRET'))
      .mockImplementation(async () => (await receiver()).app);
    const handler = createWebhookLambda({ runner: { sweep }, app, dryRun: false, log });
    await expect(handler(httpEvent({}))).rejects.toThrow('WEBHOOK_NO_SECRET');
    expect(await handler(httpEvent({}))).toMatchObject({ statusCode: 401 });
  });
});
