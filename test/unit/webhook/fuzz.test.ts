import { describe, expect, it } from 'vitest';
import { signBody } from '../../../src/webhook/index.js';
import { HMAC, kibanaBody, receiver, TOKEN } from './helpers.js';

/** mulberry32: small, seeded, reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEED = 0x5eed_0008;
const COUNT = 2500;

function randomValue(rand: () => number, depth = 0): unknown {
  const pick = Math.floor(rand() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return rand() < 0.5;
    case 2:
      return Math.floor(rand() * 2 ** 40) * (rand() < 0.5 ? -1 : 1);
    case 3:
      return [
        '10.0.0.1',
        '0.0.0.0/0',
        '::1',
        '45.155.204.10',
        '',
        'i-0123456789abcdef0',
        'root',
        '../../etc',
      ][Math.floor(rand() * 8)];
    case 4:
      return String.fromCharCode(
        ...Array.from({ length: Math.floor(rand() * 20) }, () => Math.floor(rand() * 0x2fff)),
      );
    case 5:
      return 'x'.repeat(Math.floor(rand() * 300));
    case 6:
      return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth + 1));
    default: {
      const keys = [
        'rule',
        'alert',
        'alerts',
        'hits',
        'name',
        'id',
        'uuid',
        'tags',
        'source',
        'ip',
        'sid',
        'search_name',
        'result',
        'events',
        '__proto__',
        'constructor',
        'source.ip',
      ];
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 5); i > 0; i--)
        out[keys[Math.floor(rand() * keys.length)]!] = randomValue(rand, depth + 1);
      return out;
    }
  }
}

/** Changes one thing in a valid body: drops, retypes or replaces a field somewhere. */
function mutate(body: unknown, rand: () => number): unknown {
  if (typeof body !== 'object' || body === null) return randomValue(rand);
  const copy: Record<string, unknown> = Array.isArray(body)
    ? ({ ...body } as Record<string, unknown>)
    : { ...(body as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const key = keys[Math.floor(rand() * keys.length)];
  if (key === undefined) return randomValue(rand);
  const roll = rand();
  if (roll < 0.3) delete copy[key];
  else if (roll < 0.6) copy[key] = randomValue(rand);
  else copy[key] = mutate(copy[key], rand);
  return Array.isArray(body) ? Object.values(copy) : copy;
}

function rawNoise(rand: () => number): string {
  const base = JSON.stringify(kibanaBody('45.155.204.10'));
  const chars = base.split('');
  for (let i = Math.floor(rand() * 6) + 1; i > 0; i--)
    chars[Math.floor(rand() * chars.length)] = String.fromCharCode(Math.floor(rand() * 128));
  return chars.join('');
}

describe('webhook fuzz', () => {
  it(`answers ${COUNT} random and mutated payloads with no 5xx and no AWS change`, async () => {
    // Authenticated on purpose (unauthenticated fuzz stops at the 401) and dry-run, so accepted alerts only
    // plan; the applied-mode test below covers hostile targets with actions enabled.
    const { app, waf } = await receiver({
      webhook: { rateLimit: { max: COUNT * 2, windowSeconds: 60 } },
      respond: { dryRun: true, waf: { ipv4Set: { name: 'b', id: 'i' } } },
    });
    const rand = prng(SEED);
    const statuses = new Map<number, number>();
    const splunk = {
      sid: 's-1',
      search_name: 'AWS Console Brute Force',
      result: { 'source.ip': '45.155.204.10' },
    };
    const generic = {
      id: 'g',
      rule: { name: 'AWS Console Brute Force' },
      events: [{ source: { ip: '45.155.204.10' } }],
    };
    for (let i = 0; i < COUNT; i++) {
      const route = ['kibana', 'splunk', 'generic'][i % 3] as 'kibana' | 'splunk' | 'generic';
      const mode = rand();
      const valid =
        route === 'kibana'
          ? kibanaBody('45.155.204.10', `a-${i}`)
          : route === 'splunk'
            ? splunk
            : { ...generic, id: `g-${i}` };
      const payload =
        mode < 0.15 ? rawNoise(rand) : JSON.stringify(mode < 0.5 ? randomValue(rand) : mutate(valid, rand));
      const res =
        route === 'generic'
          ? await app.inject({ method: 'POST', url: '/alerts/generic', ...signedRaw(payload) })
          : await app.inject({
              method: 'POST',
              url: route === 'splunk' ? `/alerts/splunk?token=${TOKEN}` : '/alerts/kibana',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
              payload,
            });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      expect(res.statusCode, `payload #${i}: ${payload.slice(0, 200)}`).toBeLessThan(500);
    }
    expect(waf.updates).toBe(0);
    // The run exercised both refusals and acceptances, not one path thousands of times.
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
    expect(statuses.get(202) ?? 0).toBeGreaterThan(50);
  }, 120_000);

  it('applied mode: valid-shaped alerts with hostile targets change nothing', async () => {
    const { app, waf } = await receiver({ webhook: { rateLimit: { max: 10_000, windowSeconds: 60 } } });
    const rand = prng(SEED + 1);
    const hostile = [
      '10.0.0.1',
      '0.0.0.0/0',
      '::/0',
      '127.0.0.1',
      '169.254.169.254',
      'fe80::1',
      '1.2.3.4/8',
      '',
      ' ',
      '45.155.204.10/1',
      '::ffff:10.0.0.1',
      '999.1.1.1',
    ];
    for (let i = 0; i < 500; i++) {
      const ip = hostile[Math.floor(rand() * hostile.length)]!;
      const res = await app.inject({
        method: 'POST',
        url: '/alerts/kibana',
        headers: { authorization: `Bearer ${TOKEN}` },
        payload: kibanaBody(ip, `h-${i}`),
      });
      expect(res.statusCode).toBe(202);
    }
    expect(waf.updates).toBe(0);
  }, 60_000);
});

/** Signed over the fuzzed bytes so the request passes authentication and reaches the parser and validator. */
function signedRaw(payload: string) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  return {
    payload,
    headers: {
      'content-type': 'application/json',
      'x-asc-timestamp': timestamp,
      'x-asc-signature': `sha256=${signBody(HMAC, timestamp, payload)}`,
    },
  };
}
