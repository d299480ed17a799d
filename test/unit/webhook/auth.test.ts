import { describe, expect, it } from 'vitest';
import {
  MAX_FUTURE_SKEW_SECONDS,
  ReplayGuard,
  signBody,
  timestampRefusal,
  verifySignature,
} from '../../../src/webhook/auth.js';

const WINDOW = 300;
const body = (n: number) => Buffer.from(`{"id":"a-${n}"}`);

describe('timestampRefusal', () => {
  const now = 1_767_225_600_000;
  const nowS = now / 1000;

  it('accepts one window in the past but only the clock skew in the future', () => {
    expect(timestampRefusal(nowS - WINDOW, now, WINDOW)).toBeUndefined();
    expect(timestampRefusal(nowS - WINDOW - 1, now, WINDOW)).toContain('outside the replay window');
    expect(timestampRefusal(nowS + MAX_FUTURE_SKEW_SECONDS, now, WINDOW)).toBeUndefined();
    expect(timestampRefusal(nowS + MAX_FUTURE_SKEW_SECONDS + 1, now, WINDOW)).toContain('future');
  });

  it('never allows more future than a window shorter than the skew', () => {
    expect(timestampRefusal(nowS + 10, now, 10)).toBeUndefined();
    expect(timestampRefusal(nowS + 11, now, 10)).toContain('future');
  });
});

describe('ReplayGuard', () => {
  it('keys on what the signature covers, so any spelling of one signature is one request', () => {
    const secret = 'hmac-7d1e9b3a5c2f4e6a8b0d';
    const ts = '1767225600';
    const hex = signBody(secret, ts, body(1));
    // Every spelling verifies; the guard never sees the spelling, only timestamp and body.
    for (const s of [hex, `sha256=${hex}`, hex.toUpperCase()])
      expect(verifySignature(secret, ts, body(1), s)).toBe(true);
    const guard = new ReplayGuard(WINDOW);
    expect(guard.firstSeen(ts, body(1), Number(ts) * 1000)).toBe(true);
    expect(guard.firstSeen(ts, body(1), Number(ts) * 1000 + 1)).toBe(false);
    expect(guard.firstSeen(ts, body(2), Number(ts) * 1000 + 1)).toBe(true);
    expect(guard.firstSeen('1767225601', body(1), Number(ts) * 1000 + 1)).toBe(true);
  });

  it('holds an entry until ts + window, even when the timestamp was ahead of the clock', () => {
    const guard = new ReplayGuard(WINDOW);
    const seen = 1_767_225_600_000;
    const ts = String(seen / 1000 + MAX_FUTURE_SKEW_SECONDS);
    const until = Number(ts) * 1000 + WINDOW * 1000;
    expect(guard.firstSeen(ts, body(1), seen)).toBe(true);
    expect(guard.firstSeen(ts, body(1), seen + WINDOW * 1000 + 1)).toBe(false);
    expect(guard.firstSeen(ts, body(1), until)).toBe(false);
    // Only once its timestamp is refused anyway may the entry go.
    guard.firstSeen(String(Math.floor(until / 1000)), body(9), until + 1);
    expect(guard.size).toBe(1);
    expect(guard.firstSeen(ts, body(1), until + 1)).toBe(true);
  });

  it('stays bounded: entries go within window + skew of being added, whatever their order', () => {
    const guard = new ReplayGuard(WINDOW);
    const start = 1_767_225_600_000;
    // One request a second for an hour, timestamps alternating a window behind and the skew ahead.
    for (let i = 0; i < 3600; i++) {
      const now = start + i * 1000;
      const ts = now / 1000 + (i % 2 === 0 ? -WINDOW : MAX_FUTURE_SKEW_SECONDS);
      expect(guard.firstSeen(String(ts), body(i), now)).toBe(true);
      expect(guard.size).toBeLessThanOrEqual(WINDOW + MAX_FUTURE_SKEW_SECONDS + 1);
    }
  });
});
