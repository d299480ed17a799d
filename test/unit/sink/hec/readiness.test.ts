import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHecSink } from '../../../../src/sink/hec/index.js';
import { type FakeHec, startFakeHec } from './fake-hec.js';
import { captureLogger, fast, hecConfig, tracked } from './helpers.js';

let hec: FakeHec;
beforeEach(async () => {
  hec = await startFakeHec();
});
afterEach(async () => {
  await hec.close();
});

describe('HEC sink: readiness (check)', () => {
  it('is ready when the health endpoint answers 200 and nothing blocks the sink', async () => {
    const sink = createHecSink(hecConfig({ urls: [hec.url] }), { logger: captureLogger().log });
    await expect(sink.check?.()).resolves.toBeUndefined();
    await sink.close();
  });

  it('is not ready while blocked on an invalid token, though /health says healthy; ready again once unblocked', async () => {
    // HEC's health endpoint does not look at the token: it answers 200 while every batch gets 403.
    hec.onEvent = () => ({ status: 403, body: { text: 'Invalid token', code: 4 } });
    const sink = createHecSink(
      hecConfig({ urls: [hec.url], token: 'secret-token-abcdef', blockedRetryMs: 1, ...fast }),
      { logger: captureLogger().log },
    );
    const first = tracked(1);
    await sink.write(first.record);
    await sink.flush();
    expect(first.outcomes[0]?.kind).toBe('fail');
    expect(sink.stats().blocked).toBe(true);

    const err = (await sink.check?.().then(
      () => undefined,
      (e: unknown) => e,
    )) as (Error & { code?: string }) | undefined;
    expect(err?.code).toBe('HEC_TOKEN_INVALID');
    expect(err?.message).toMatch(/blocked.*HTTP 403.*Invalid token/);
    expect(err?.message).not.toContain('secret-token-abcdef');

    // The operator fixes the token on the HEC side: the next batch goes through and the block lifts.
    hec.onEvent = () => ({ status: 200, body: { text: 'Success', code: 0 } });
    await new Promise((r) => setTimeout(r, 5));
    const second = tracked(2);
    await sink.write(second.record);
    await sink.flush();
    expect(second.outcomes[0]?.kind).toBe('ack');
    expect(sink.stats().blocked).toBe(false);
    await expect(sink.check?.()).resolves.toBeUndefined();
    await sink.close();
  });

  it.each([
    ['a wrong index', 400, { text: 'Incorrect index', code: 7 }, 'HEC_INDEX_INVALID'],
    ['a disabled token', 403, { text: 'Token disabled', code: 1 }, 'HEC_TOKEN_DISABLED'],
    ['a foreign 2xx', 200, 'OK', 'HEC_FOREIGN_RESPONSE'],
  ])('is not ready while blocked on %s', async (_name, status, body, code) => {
    hec.onEvent = () => ({ status, body, headers: { 'content-type': 'text/plain' } });
    const sink = createHecSink(hecConfig({ urls: [hec.url] }), { logger: captureLogger().log });
    await sink.write(tracked(1).record);
    await sink.flush();
    await expect(sink.check?.()).rejects.toMatchObject({ code });
    await sink.close();
  });

  it('is not ready when no endpoint answers its health endpoint', async () => {
    hec.onHealth = () => ({ status: 503, body: { text: 'HEC is unhealthy', code: 9 } });
    const sink = createHecSink(hecConfig({ urls: [hec.url] }), { logger: captureLogger().log });
    await expect(sink.check?.()).rejects.toMatchObject({ code: 'HEC_UNAVAILABLE' });
    await sink.close();
  });
});
