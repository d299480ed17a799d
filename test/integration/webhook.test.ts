import { Writable } from 'node:stream';
import { GetIPSetCommand } from '@aws-sdk/client-wafv2';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/observe/index.js';
import { createLambdaHandler, createWebhookApp } from '../../src/webhook/index.js';
import { createIpSets, liveRunner, motoClients, runId } from './respond-helpers.js';

const TOKEN = `it-token-${runId}-0123456789`;
const { clients } = motoClients();
let sets: Awaited<ReturnType<typeof createIpSets>>;
let app: FastifyInstance;
let base = '';
let logText = '';

const policy = [
  {
    name: 'brute force → WAF block',
    match: { rules: ['AWS Console Brute Force'], tags: [] },
    action: 'waf-block-ip',
    targets: ['source.ip'],
    ttlSeconds: 3600,
  },
];

async function addresses(): Promise<string[]> {
  const out = await clients.waf.send(
    new GetIPSetCommand({ Name: sets.ipv4Set.name, Id: sets.ipv4Set.id, Scope: 'REGIONAL' }),
  );
  return out.IPSet?.Addresses ?? [];
}

/** What the documented Kibana webhook connector template renders for a security rule's alert. */
function kibanaAlert(ip: string, uuid: string) {
  return JSON.stringify({
    rule: { id: 'b1f0c6e2-brute', name: 'AWS Console Brute Force', tags: 'AWS, Credential Access' },
    alert: { id: 'b1f0c6e2-brute', uuid },
    date: new Date().toISOString(),
    alerts: [
      {
        '@timestamp': new Date().toISOString(),
        source: { ip },
        event: { action: 'ConsoleLogin', outcome: 'failure' },
      },
    ],
  });
}

beforeAll(async () => {
  sets = await createIpSets(clients, `asc-webhook-${runId}`);
  const { runner, config } = liveRunner({ waf: { ...sets } });
  const sink = new Writable({
    write(chunk, _e, cb) {
      logText += String(chunk);
      cb();
    },
  });
  app = await createWebhookApp(
    { ...config.webhook, policy: policy as never },
    { runner, secrets: { token: TOKEN }, log: createLogger('debug', sink) },
  );
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
});

describe('webhook end to end over HTTP, responding in moto', () => {
  it('a Kibana brute-force alert blocks the source address in WAF', async () => {
    const res = await fetch(`${base}/alerts/kibana`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: kibanaAlert('45.155.205.7', 'e2e-1'),
    });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { actions: { status: string; target: string; expiresAt?: string }[] };
    expect(body.actions).toMatchObject([{ status: 'applied', target: '45.155.205.7/32' }]);
    expect(body.actions[0]!.expiresAt).toBeDefined();
    expect(await addresses()).toEqual(['45.155.205.7/32']);
  });

  it('refuses wrong and missing credentials over a real socket, changing nothing', async () => {
    const before = await addresses();
    for (const headers of [
      {},
      { authorization: 'Bearer nope-nope-nope-nope' },
      { authorization: `Bearer ${TOKEN}x` },
    ] as Record<string, string>[]) {
      const res = await fetch(`${base}/alerts/kibana`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: kibanaAlert('45.155.205.8', 'e2e-2'),
      });
      expect(res.status).toBe(401);
    }
    const splunk = await fetch(`${base}/alerts/splunk?token=wrong-${runId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        sid: 's1',
        search_name: 'AWS Console Brute Force',
        result: { 'source.ip': '45.155.205.9' },
      }),
    });
    expect(splunk.status).toBe(401);
    expect(await addresses()).toEqual(before);
    expect(logText).not.toContain(TOKEN);
    expect(logText).not.toContain(`wrong-${runId}`);
  });

  it('a Splunk alert with the token in the query string blocks its first result row', async () => {
    const res = await fetch(`${base}/alerts/splunk?token=${encodeURIComponent(TOKEN)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        sid: `scheduler__admin__${runId}`,
        search_name: 'AWS Console Brute Force',
        app: 'search',
        owner: 'admin',
        result: { 'source.ip': '45.155.205.10' },
      }),
    });
    expect(res.status).toBe(202);
    expect(await addresses()).toContain('45.155.205.10/32');
    expect(logText).toContain('/alerts/splunk');
    expect(logText).not.toContain(TOKEN);
  });

  it('serves the same app to a Lambda function URL event', async () => {
    const handler = createLambdaHandler(app);
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/alerts/kibana',
      rawQueryString: '',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: Buffer.from(kibanaAlert('45.155.205.11', 'lambda-1')).toString('base64'),
      isBase64Encoded: true,
      requestContext: {
        http: {
          method: 'POST',
          path: '/alerts/kibana',
          sourceIp: '198.51.100.1',
          protocol: 'HTTP/1.1',
          userAgent: 'Kibana',
        },
      },
    };
    const result = await handler(event as never);
    expect(result.statusCode).toBe(202);
    expect(await addresses()).toContain('45.155.205.11/32');
    const denied = await handler({ ...event, headers: { 'content-type': 'application/json' } } as never);
    expect(denied.statusCode).toBe(401);
  });
});
