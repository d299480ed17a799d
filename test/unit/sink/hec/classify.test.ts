import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../../src/sink/hec/classify.js';
import { classifyResponse } from '../../../../src/sink/hec/index.js';

const reply = (code: number, text = 't', extra: Record<string, unknown> = {}) =>
  JSON.stringify({ text, code, ...extra });

describe('classifyResponse', () => {
  it.each([
    [200, reply(0), 'ok'],
    [503, reply(9), 'retry'],
    [500, reply(8), 'retry'],
    [429, 'Too Many Requests', 'retry'],
    [502, '<html>bad gateway</html>', 'retry'],
    [400, reply(6), 'split'],
    [400, reply(12), 'split'],
    [400, reply(13), 'split'],
    [400, reply(15), 'split'],
    [413, 'too large', 'split'],
    [403, reply(1), 'fatal'],
    [401, reply(2), 'fatal'],
    [401, reply(3), 'fatal'],
    [403, reply(4), 'fatal'],
    [400, reply(7), 'fatal'],
    [400, reply(10), 'fatal'],
    [400, reply(11), 'fatal'],
    [400, reply(14), 'fatal'],
    [401, 'Unauthorized', 'fatal'],
    [404, 'not found', 'fatal'],
  ])('HTTP %i %s → %s', (status, body, kind) => {
    expect(classifyResponse(status, body).kind).toBe(kind);
  });

  it('names the error code for configuration errors', () => {
    const codes = [
      [403, reply(1), 'HEC_TOKEN_DISABLED'],
      [403, reply(4), 'HEC_TOKEN_INVALID'],
      [401, 'Unauthorized', 'HEC_TOKEN_INVALID'],
      [400, reply(7), 'HEC_INDEX_INVALID'],
      [400, reply(10), 'HEC_CHANNEL_MISSING'],
      [400, reply(14), 'HEC_ACK_DISABLED'],
    ] as const;
    for (const [status, body, code] of codes) {
      const c = classifyResponse(status, body);
      expect(c.kind === 'fatal' && c.code).toBe(code);
    }
  });

  it('carries ackId, invalid-event-number and Retry-After', () => {
    expect(classifyResponse(200, reply(0, 'Success', { ackId: 7 }))).toEqual({ kind: 'ok', ackId: 7 });
    expect(
      classifyResponse(400, reply(6, 'Invalid data format', { 'invalid-event-number': 3 })),
    ).toMatchObject({
      kind: 'split',
      invalidEvent: 3,
      hecCode: 6,
    });
    expect(classifyResponse(503, reply(9), '2')).toMatchObject({ kind: 'retry', retryAfterMs: 2000 });
  });

  it('does not take a non-2xx as ok even when its body says code 0', () => {
    expect(classifyResponse(503, reply(0)).kind).toBe('retry');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
