import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type ReadinessCheck, startObserveServer } from '../../../src/observe/index.js';

let closeServer: (() => Promise<void>) | undefined;
afterEach(async () => {
  await closeServer?.();
  closeServer = undefined;
});

async function serve(checks: ReadinessCheck[], options: { cacheMs?: number; checkTimeoutMs?: number } = {}) {
  const server = await startObserveServer({
    port: 0,
    host: '127.0.0.1',
    metrics: createMetrics(),
    checks,
    ...options,
  });
  closeServer = server.close;
  return async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/readyz`, {
      // A probe that never answers must fail the test, not hang it.
      signal: AbortSignal.timeout(5_000),
    });
    return {
      status: res.status,
      body: (await res.json()) as { ready: boolean; checks: Record<string, string> },
    };
  };
}

describe('observe server: /readyz', () => {
  it('is ready when every check passes, and names the failing check and its reason otherwise', async () => {
    const probe = await serve([
      { name: 'sink:hec', check: async () => {} },
      {
        name: 'sink:search',
        check: async () => {
          throw new Error('search sink is blocked: bulk request answered HTTP 403');
        },
      },
    ]);
    expect(await probe()).toEqual({
      status: 503,
      body: {
        ready: false,
        checks: { 'sink:hec': 'ok', 'sink:search': 'search sink is blocked: bulk request answered HTTP 403' },
      },
    });
  });

  it('concurrent probes share one running check', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const probe = await serve([
      {
        name: 'sink:hec',
        check: () => {
          calls++;
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        },
      },
    ]);
    const probes = Array.from({ length: 5 }, () => probe());
    await expect.poll(() => calls).toBe(1);
    await new Promise((r) => setTimeout(r, 50));
    release();
    const results = await Promise.all(probes);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(calls).toBe(1);
  });

  it('a check that never answers makes the process not ready after the time-out, with the reason', async () => {
    let calls = 0;
    const probe = await serve(
      [
        {
          name: 'sqs:queue',
          check: () => {
            calls++;
            return new Promise<void>(() => {});
          },
        },
        { name: 'sink:hec', check: async () => {} },
      ],
      { cacheMs: 0, checkTimeoutMs: 100 },
    );
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 5 }, () => probe()));
    expect(Date.now() - started).toBeLessThan(2_000);
    for (const r of results) {
      expect(r.status).toBe(503);
      expect(r.body.checks).toEqual({ 'sqs:queue': 'no answer within 100 ms', 'sink:hec': 'ok' });
    }
    // A later round waits on the call still hanging instead of starting another one.
    expect((await probe()).status).toBe(503);
    expect(calls).toBe(1);
  });

  it('a check that throws synchronously is a failed check, not a crashed probe', async () => {
    const probe = await serve([
      {
        name: 'sink:file',
        check: () => {
          throw new Error('cannot write the directory');
        },
      },
    ]);
    expect(await probe()).toMatchObject({
      status: 503,
      body: { checks: { 'sink:file': 'cannot write the directory' } },
    });
  });

  it('keeps caching results: probes within the cache time run no check', async () => {
    let calls = 0;
    const probe = await serve([{ name: 'sink:hec', check: async () => void calls++ }], { cacheMs: 60_000 });
    await probe();
    await probe();
    await probe();
    expect(calls).toBe(1);
  });

  it('checks again once the cache expired and the last call finished', async () => {
    let calls = 0;
    const probe = await serve([{ name: 'sink:hec', check: async () => void calls++ }], { cacheMs: 0 });
    await probe();
    await probe();
    expect(calls).toBe(2);
  });
});
