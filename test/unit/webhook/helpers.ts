import { Writable } from 'node:stream';
import { createLogger } from '../../../src/observe/index.js';
import { JsonlActionStore } from '../../../src/respond/store.js';
import { createWebhookApp, signBody, type WebhookDeps } from '../../../src/webhook/index.js';
import { wafRunner } from '../respond/waf-runner.js';

export const TOKEN = 'tok-3f9a1c7e5b2d4a6f8e0c';
export const HMAC = 'hmac-7d1e9b3a5c2f4e6a8b0d';

export const BRUTE_FORCE_POLICY = [
  {
    name: 'brute force → block',
    match: { rules: ['AWS Console Brute Force'], tags: ['asc:block-source'] },
    action: 'waf-block-ip',
    targets: ['source.ip'],
  },
];

/** A receiver wired to the real runner over an in-memory WAF set; logs captured as text. */
export async function receiver(
  options: {
    webhook?: Record<string, unknown>;
    respond?: Record<string, unknown>;
    deps?: Partial<WebhookDeps>;
  } = {},
) {
  let logText = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logText += String(chunk);
      cb();
    },
  });
  const log = createLogger('debug', sink);
  const { runner, waf, audit, config } = wafRunner({
    store: new JsonlActionStore(),
    webhook: { policy: BRUTE_FORCE_POLICY, ...options.webhook },
    respond: { waf: { ipv4Set: { name: 'blocked-v4', id: 'id-4' } }, ...options.respond },
    log,
  });
  const app = await createWebhookApp(config.webhook, {
    runner,
    secrets: { token: TOKEN, hmacSecret: HMAC },
    log,
    ...options.deps,
  });
  return { app, waf, audit, logs: () => logText, config };
}

export function kibanaBody(ip: string, alertUuid = 'alert-1') {
  return {
    rule: { id: 'rule-1', name: 'AWS Console Brute Force', tags: 'aws, asc:block-source' },
    alert: { id: 'source.ip', uuid: alertUuid },
    date: '2026-01-01T00:00:00.000Z',
    alerts: [{ '@timestamp': '2026-01-01T00:00:00.000Z', source: { ip }, event: { action: 'ConsoleLogin' } }],
  };
}

export function signed(body: unknown, secret = HMAC, timestamp = String(Math.floor(Date.now() / 1000))) {
  const payload = JSON.stringify(body);
  return {
    payload,
    headers: {
      'content-type': 'application/json',
      'x-asc-timestamp': timestamp,
      'x-asc-signature': `sha256=${signBody(secret, timestamp, payload)}`,
    },
  };
}
