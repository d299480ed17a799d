import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/observe/index.js';
import { createWebhookApp, WebhookStartError } from '../../../src/webhook/index.js';
import { HMAC, kibanaBody, receiver, signed, TOKEN } from './helpers.js';

const genericBody = (id: string, ip = '45.155.204.10') => ({
  id,
  rule: { name: 'AWS Console Brute Force', tags: [] },
  events: [{ source: { ip } }],
});

describe('webhook receiver', () => {
  it('refuses to start without a secret unless told it is insecure', async () => {
    const config = validateConfig({});
    const deps = { runner: { run: async () => ({}) as never }, secrets: {}, log: createLogger('silent') };
    await expect(createWebhookApp(config.webhook, deps)).rejects.toBeInstanceOf(WebhookStartError);
    const app = await createWebhookApp(config.webhook, { ...deps, insecureNoAuth: true });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('answers /healthz without credentials', async () => {
    const { app } = await receiver();
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.json()).toEqual({ status: 'ok' });
  });

  describe('Kibana (bearer)', () => {
    it('blocks the source address of a brute-force alert and reports it', async () => {
      const { app, waf, audit } = await receiver();
      const res = await app.inject({
        method: 'POST',
        url: '/alerts/kibana',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: kibanaBody('45.155.204.10'),
      });
      expect(res.statusCode).toBe(202);
      const body = res.json();
      expect(body.alertId).toBe('kibana:rule-1:alert-1');
      expect(body.matchedPolicies).toEqual(['brute force → block']);
      expect(body.actions).toMatchObject([
        { action: 'waf-block-ip', target: '45.155.204.10/32', status: 'applied' },
      ]);
      expect(waf.addresses).toEqual(['45.155.204.10/32']);
      expect(audit.entries.at(-1)).toMatchObject({
        requester: { source: 'webhook:kibana', rule: 'AWS Console Brute Force' },
      });
      const again = await app.inject({
        method: 'POST',
        url: '/alerts/kibana',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: kibanaBody('45.155.204.10'),
      });
      expect(again.json().actions[0].status).toBe('skipped');
      expect(waf.updates).toBe(1);
    });

    it.each([
      ['no header', {}],
      ['wrong token', { authorization: 'Bearer tok-wrong-wrong-wrong-wrong' }],
      ['token prefix only', { authorization: `Bearer ${TOKEN.slice(0, 10)}` }],
      ['basic instead of bearer', { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }],
      ['token in the query instead', {}],
    ])('401 with %s, nothing parsed or done', async (label, headers) => {
      const { app, waf, audit } = await receiver();
      const res = await app.inject({
        method: 'POST',
        url: label === 'token in the query instead' ? `/alerts/kibana?token=${TOKEN}` : '/alerts/kibana',
        headers: { ...headers, 'content-type': 'application/json' },
        // Not even JSON: a 401 (not 400) proves the body was never parsed.
        payload: '{not json',
      });
      expect(res.statusCode).toBe(401);
      expect(waf.updates).toBe(0);
      expect(audit.entries).toEqual([]);
    });
  });

  describe('Splunk (query token)', () => {
    const splunkBody = {
      sid: 'scheduler__admin__search__RMD5abc_at_1767225600_42',
      search_name: 'AWS Console Brute Force',
      app: 'search',
      owner: 'admin',
      results_link: 'https://splunk.example/app/search/search?sid=x',
      result: { 'source.ip': '45.155.204.11', count: '57' },
    };

    it('acts on the first result row', async () => {
      const { app, waf } = await receiver();
      const res = await app.inject({
        method: 'POST',
        url: `/alerts/splunk?token=${TOKEN}`,
        payload: splunkBody,
      });
      expect(res.statusCode).toBe(202);
      expect(res.json().actions[0]).toMatchObject({ target: '45.155.204.11/32', status: 'applied' });
      expect(waf.addresses).toEqual(['45.155.204.11/32']);
    });

    it('fetches every result row by sid when Splunk REST is configured', async () => {
      const asked: string[] = [];
      const { app, waf } = await receiver({
        webhook: { splunk: { restUrl: 'https://splunk.example:8089' } },
        deps: {
          secrets: { token: TOKEN, splunkToken: 'splunk-rest-token-123' },
          fetchSplunkResults: async (sid) => {
            asked.push(sid);
            return [{ 'source.ip': '45.155.204.11' }, { 'source.ip': '45.155.204.12' }];
          },
        },
      });
      const res = await app.inject({
        method: 'POST',
        url: `/alerts/splunk?token=${TOKEN}`,
        payload: splunkBody,
      });
      expect(asked).toEqual([splunkBody.sid]);
      expect(res.json().actions.map((a: { target: string }) => a.target)).toEqual([
        '45.155.204.11/32',
        '45.155.204.12/32',
      ]);
      expect(waf.addresses.sort()).toEqual(['45.155.204.11/32', '45.155.204.12/32']);
    });

    it('401 with a wrong or missing token', async () => {
      const { app, waf } = await receiver();
      for (const url of ['/alerts/splunk', '/alerts/splunk?token=nope', `/alerts/splunk?token=${TOKEN}x`]) {
        expect((await app.inject({ method: 'POST', url, payload: splunkBody })).statusCode).toBe(401);
      }
      expect(waf.updates).toBe(0);
    });

    it('400 naming the field for a malformed payload', async () => {
      const { app } = await receiver();
      const res = await app.inject({
        method: 'POST',
        url: `/alerts/splunk?token=${TOKEN}`,
        payload: { ...splunkBody, sid: '../../services/auth' },
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toContain('sid');
    });
  });

  describe('generic (HMAC)', () => {
    it('accepts a correctly signed alert once, and refuses its replay', async () => {
      const { app, waf } = await receiver();
      const req = signed(genericBody('g-1'));
      const first = await app.inject({ method: 'POST', url: '/alerts/generic', ...req });
      expect(first.statusCode).toBe(202);
      expect(waf.addresses).toEqual(['45.155.204.10/32']);
      const replay = await app.inject({ method: 'POST', url: '/alerts/generic', ...req });
      expect(replay.statusCode).toBe(401);
      expect(replay.json().message).toContain('replayed');
    });

    it('refuses a replay whose signature is re-spelled (bare, upper-case or prefixed upper-case hex)', async () => {
      const { app } = await receiver();
      const req = signed(genericBody('g-5'));
      const hex = req.headers['x-asc-signature'].slice('sha256='.length);
      expect((await app.inject({ method: 'POST', url: '/alerts/generic', ...req })).statusCode).toBe(202);
      for (const spelling of [hex, hex.toUpperCase(), `sha256=${hex.toUpperCase()}`]) {
        const res = await app.inject({
          method: 'POST',
          url: '/alerts/generic',
          payload: req.payload,
          headers: { ...req.headers, 'x-asc-signature': spelling },
        });
        expect(res.statusCode).toBe(401);
        expect(res.json().message).toContain('replayed');
      }
    });

    it('refuses a correctly signed timestamp more than the clock skew ahead', async () => {
      const { app, config } = await receiver();
      const nowS = Math.floor(Date.now() / 1000);
      // Within the window, but a future stamp would stay acceptable for longer than the window.
      const ahead = signed(genericBody('g-6'), HMAC, String(nowS + config.webhook.replayWindowSeconds - 10));
      const res = await app.inject({ method: 'POST', url: '/alerts/generic', ...ahead });
      expect(res.statusCode).toBe(401);
      expect(res.json().message).toContain('future');
      const skewed = signed(genericBody('g-7'), HMAC, String(nowS + 20));
      expect((await app.inject({ method: 'POST', url: '/alerts/generic', ...skewed })).statusCode).toBe(202);
    });

    it('refuses a replay for as long as its timestamp is accepted, not one window after it was seen', async () => {
      let clock = Date.now();
      const { app, config } = await receiver({ deps: { now: () => clock } });
      const windowMs = config.webhook.replayWindowSeconds * 1000;
      const ts = Math.floor(clock / 1000) + 25;
      const req = signed(genericBody('g-8'), HMAC, String(ts));
      expect((await app.inject({ method: 'POST', url: '/alerts/generic', ...req })).statusCode).toBe(202);
      // Past "seen + window", still within "ts + window": the timestamp is accepted, so the guard must hold.
      clock += windowMs + 5_000;
      const late = await app.inject({ method: 'POST', url: '/alerts/generic', ...req });
      expect(late.statusCode).toBe(401);
      expect(late.json().message).toContain('replayed');
      clock = ts * 1000 + windowMs + 1;
      const expired = await app.inject({ method: 'POST', url: '/alerts/generic', ...req });
      expect(expired.json().message).toContain('outside the replay window');
    });

    it('401 for a wrong key, a tampered body, a stale timestamp or no signature', async () => {
      const { app, waf, audit } = await receiver();
      const wrongKey = signed(genericBody('g-2'), 'another-secret-of-16+');
      const good = signed(genericBody('g-3'));
      const stale = signed(genericBody('g-4'), HMAC, String(Math.floor(Date.now() / 1000) - 3600));
      const cases = [
        { ...wrongKey },
        { headers: good.headers, payload: good.payload.replace('45.155.204.10', '45.155.204.99') },
        { ...stale },
        { headers: { 'content-type': 'application/json' }, payload: good.payload },
        { headers: good.headers },
      ];
      for (const c of cases) {
        const res = await app.inject({ method: 'POST', url: '/alerts/generic', ...c });
        expect(res.statusCode).toBe(401);
      }
      expect(waf.updates).toBe(0);
      expect(audit.entries).toEqual([]);
    });
  });

  it('413 for an oversize body, before authentication matters', async () => {
    const { app } = await receiver({ webhook: { bodyLimit: 2048 } });
    const res = await app.inject({
      method: 'POST',
      url: '/alerts/kibana',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(4096) }),
    });
    expect(res.statusCode).toBe(413);
  });

  it('429 once a client exceeds the rate limit, even with wrong credentials', async () => {
    const { app } = await receiver({ webhook: { rateLimit: { max: 3, windowSeconds: 60 } } });
    const codes = [];
    for (let i = 0; i < 5; i++) {
      codes.push(
        (
          await app.inject({
            method: 'POST',
            url: '/alerts/kibana',
            headers: { authorization: 'Bearer wrong' },
          })
        ).statusCode,
      );
    }
    expect(codes).toEqual([401, 401, 401, 429, 429]);
  });

  it('plans only in dry-run and says why', async () => {
    const { app, waf } = await receiver({
      respond: { dryRun: true, waf: { ipv4Set: { name: 'b', id: 'i' } } },
    });
    const res = await app.inject({
      method: 'POST',
      url: '/alerts/kibana',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: kibanaBody('45.155.204.10'),
    });
    expect(res.json().actions[0]).toMatchObject({
      status: 'planned',
      reason: expect.stringContaining('dry run'),
    });
    expect(waf.updates).toBe(0);
  });

  it('reports guardrail refusals and unmatched rules in the 202 answer', async () => {
    const { app, waf } = await receiver();
    const refused = await app.inject({
      method: 'POST',
      url: '/alerts/kibana',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: kibanaBody('10.0.0.8'),
    });
    expect(refused.json().actions[0]).toMatchObject({
      status: 'refused',
      reason: expect.stringContaining('private'),
    });
    const unmatched = await app.inject({
      method: 'POST',
      url: '/alerts/kibana',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: { ...kibanaBody('45.155.204.10'), rule: { id: 'r2', name: 'Something else', tags: [] } },
    });
    expect(unmatched.json()).toMatchObject({
      actions: [],
      warnings: ['no policy matches rule "Something else"'],
    });
    expect(waf.updates).toBe(0);
  });

  it('caps the targets acted on per alert', async () => {
    const { app, waf } = await receiver({ webhook: { maxTargetsPerAlert: 2 } });
    const body = kibanaBody('45.155.204.1');
    body.alerts = ['45.155.204.1', '45.155.204.2', '45.155.204.3'].map((ip) => ({
      '@timestamp': '',
      source: { ip },
      event: { action: 'x' },
    }));
    const res = await app.inject({
      method: 'POST',
      url: '/alerts/kibana',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: body,
    });
    expect(res.json().actions.map((a: { status: string }) => a.status)).toEqual([
      'applied',
      'applied',
      'skipped',
    ]);
    expect(waf.updates).toBe(2);
  });

  it('never writes a secret to the log', async () => {
    const { app, logs } = await receiver();
    const splunk = {
      sid: 's1',
      search_name: 'AWS Console Brute Force',
      result: { 'source.ip': '45.155.204.20' },
    };
    await app.inject({ method: 'POST', url: `/alerts/splunk?token=${TOKEN}`, payload: splunk });
    await app.inject({ method: 'POST', url: '/alerts/splunk?token=guess-guess-guess-1234', payload: splunk });
    await app.inject({
      method: 'POST',
      url: '/alerts/kibana',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: kibanaBody('45.155.204.21'),
    });
    await app.inject({ method: 'POST', url: '/alerts/generic', ...signed(genericBody('g-9')) });
    await app.inject({ method: 'POST', url: `/alerts/nowhere?token=${TOKEN}` });
    const text = logs();
    expect(text).toContain('/alerts/splunk');
    expect(text).toContain('"status":202');
    for (const secret of [TOKEN, HMAC, 'guess-guess-guess-1234']) expect(text).not.toContain(secret);
  });
});
