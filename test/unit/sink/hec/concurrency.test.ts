import { describe, expect, it } from 'vitest';
import {
  AdaptiveConcurrency,
  type AdaptiveConcurrencyOptions,
  FixedConcurrency,
} from '../../../../src/sink/hec/concurrency.js';

/** An adaptive limit on a hand-driven clock. */
function limiter(options: Partial<AdaptiveConcurrencyOptions> = {}) {
  let now = 0;
  const limit = new AdaptiveConcurrency({
    initial: 1,
    max: 16,
    decreaseRatio: 0.5,
    rttDeviationThreshold: 2.5,
    now: () => now,
    ...options,
  });
  /**
   * One window of traffic: as many requests start as the limit allows (only one when `busy` is false, so
   * in-flight stays below the limit), all answer with `rttMs` (the first `overloaded` of them pushing
   * back), and the last answer comes after the window's end, closing it.
   */
  function window(rttMs: number, opts: { busy?: boolean; overloaded?: number } = {}): number {
    const n = opts.busy === false ? 1 : limit.limit;
    for (let i = 1; i <= n; i++) limit.onRequest(i);
    for (let i = 0; i < n; i++) {
      if (i === n - 1) now += 60_000;
      limit.onResponse({ rttMs, overloaded: i < (opts.overloaded ?? 0) });
    }
    return limit.limit;
  }
  return { limit, window };
}

/** Small, repeatable jitter around a base RTT, so the moving variance is not zero. */
const jitter = (base: number, i: number) => base + ((i * 7) % 5) - 2;

describe('adaptive concurrency', () => {
  it('starts at the initial limit and grows by one per window while the receiver keeps up', () => {
    const { limit, window } = limiter({ initial: 2 });
    expect(limit.limit).toBe(2);
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) seen.push(window(100));
    expect(seen).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('does not grow while in-flight requests never reach the limit (no evidence more would be used)', () => {
    const { limit, window } = limiter({ initial: 4 });
    for (let i = 0; i < 20; i++) window(jitter(100, i), { busy: false });
    expect(limit.limit).toBe(4);
  });

  it('never goes above the ceiling', () => {
    const { limit, window } = limiter({ initial: 1, max: 5 });
    for (let i = 0; i < 50; i++) window(100);
    expect(limit.limit).toBe(5);
  });

  it('initial above the ceiling starts at the ceiling', () => {
    expect(limiter({ initial: 40, max: 8 }).limit.limit).toBe(8);
  });

  it('halves when the receiver pushes back, rounding down', () => {
    const { limit, window } = limiter({ initial: 9, max: 9 });
    expect(window(100)).toBe(9);
    expect(window(100, { overloaded: 1 })).toBe(4);
    expect(window(100, { overloaded: 1 })).toBe(2);
    expect(limit.limit).toBe(2);
  });

  it('cuts once per window however many requests were refused in it', () => {
    const { limit, window } = limiter({ initial: 8, max: 8 });
    window(100);
    window(100, { overloaded: 8 });
    expect(limit.limit).toBe(4);
  });

  it('uses the configured ratio', () => {
    const { window } = limiter({ initial: 10, max: 10, decreaseRatio: 0.9 });
    window(100);
    expect(window(100, { overloaded: 1 })).toBe(9);
  });

  it('never goes below 1, even under constant push-back from the first response', () => {
    const { limit, window } = limiter({ initial: 6 });
    for (let i = 0; i < 10; i++) window(50, { overloaded: 100 });
    expect(limit.limit).toBe(1);
  });

  it('shrinks when the round-trip time rises clearly above its moving average, with no refusal', () => {
    const { limit, window } = limiter({ initial: 8, max: 8 });
    for (let i = 0; i < 10; i++) window(jitter(100, i));
    expect(limit.limit).toBe(8);
    // Requests now queue at the receiver: three times slower, still answered 200.
    expect(window(300)).toBe(4);
  });

  it('ignores RTT jitter within the usual deviation', () => {
    const { limit, window } = limiter({ initial: 8, max: 8 });
    for (let i = 0; i < 30; i++) window(jitter(100, i));
    expect(limit.limit).toBe(8);
  });

  it('a larger deviation threshold tolerates a rise that the default reads as queueing', () => {
    const rise = (threshold: number) => {
      const { window } = limiter({ initial: 8, max: 8, rttDeviationThreshold: threshold });
      // A receiver whose latency swings by ±10 ms from one window to the next.
      for (let i = 0; i < 12; i++) window(i % 2 === 0 ? 90 : 110);
      return [window(110), window(140)];
    };
    expect(rise(2.5)).toEqual([8, 4]);
    expect(rise(5)).toEqual([8, 8]);
  });

  it('recovers after push-back: grows again once the receiver keeps up', () => {
    const { limit, window } = limiter({ initial: 8, max: 8 });
    window(100);
    window(100, { overloaded: 2 });
    expect(limit.limit).toBe(4);
    for (let i = 0; i < 20; i++) window(100);
    expect(limit.limit).toBe(8);
  });

  it('refused requests do not feed the average RTT', () => {
    const { limit, window } = limiter({ initial: 4 });
    window(100);
    window(100);
    const before = limit.averageRttMs;
    window(1, { overloaded: 100 });
    expect(limit.averageRttMs).toBe(before);
  });

  it('a response inside the current window does not move the limit', () => {
    const { limit, window } = limiter({ initial: 4 });
    window(100);
    window(100);
    const at = limit.limit;
    // The next window is one average RTT long; an answer 1 ms into it changes nothing yet.
    limit.onRequest(at);
    limit.onResponse({ rttMs: 1, overloaded: true });
    expect(limit.limit).toBe(at);
  });
});

describe('fixed concurrency', () => {
  it('keeps its limit whatever happens', () => {
    const fixed = new FixedConcurrency(6);
    fixed.onRequest();
    fixed.onResponse();
    expect(fixed.limit).toBe(6);
  });
});
