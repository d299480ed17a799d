import { describe, expect, it } from 'vitest';
import { classifyAckPoll, classifyHealth, parseRetryAfter } from '../../../../src/sink/hec/classify.js';
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
    [413, '<html><body>413 Request Entity Too Large</body></html>', 'split'],
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

  // Only a JSON body with code 0 is HEC's success reply; anything else that says 2xx is some other service.
  it.each([
    [200, ''],
    [204, ''],
    [200, '{}'],
    [200, 'OK'],
    [200, '<html><form action="/login">Sign in</form></html>'],
    [200, JSON.stringify({ text: 'HEC is healthy', code: 17 })],
    [200, JSON.stringify({ text: 'Success' })],
  ])('HTTP %i %j without a HEC success reply → fatal HEC_FOREIGN_RESPONSE, never ok', (status, body) => {
    const c = classifyResponse(status, body, undefined, 'text/html');
    expect(c).toMatchObject({ kind: 'fatal', code: 'HEC_FOREIGN_RESPONSE' });
  });

  // Only HEC's own codes isolate a bad event; a 400 from a proxy is about the request, not an event.
  it.each([
    ['<html><center>The plain HTTP request was sent to HTTPS port</center></html>'],
    ['<html><head><title>400 Request Header Or Cookie Too Large</title></head></html>'],
    [''],
    [JSON.stringify({ error: 'bad request' })],
    [JSON.stringify({ text: 'something new', code: 99 })],
  ])('HTTP 400 %j without a HEC code → fatal HEC_FOREIGN_RESPONSE, not split', (body) => {
    expect(classifyResponse(400, body)).toMatchObject({ kind: 'fatal', code: 'HEC_FOREIGN_RESPONSE' });
  });

  it('describes a foreign reply by status, content type and first bytes', () => {
    const page = `<html>\n  <title>Sign in</title>${'x'.repeat(500)}</html>`;
    const c = classifyResponse(200, page, undefined, 'text/html; charset=utf-8');
    expect(c.kind === 'fatal' && c.reason).toMatch(
      /^the reply was not HEC's: HTTP 200, content-type text\/html; charset=utf-8, a body starting "<html> <title>Sign in<\/title>x+"/,
    );
    // The first bytes only: the page itself stays out of logs.
    expect(c.kind === 'fatal' && c.reason).not.toContain('x'.repeat(120));
    const empty = classifyResponse(204, '');
    expect(empty.kind === 'fatal' && empty.reason).toContain('HTTP 204, content-type none, an empty body');
  });

  it('reads an ack poll reply: the acks map is success; anything else 2xx is foreign', () => {
    const ok = classifyAckPoll(200, JSON.stringify({ acks: { 0: true, 3: false } }));
    expect(ok).toEqual({
      kind: 'ok',
      acks: new Map([
        [0, true],
        [3, false],
      ]),
    });
    expect(classifyAckPoll(200, '<html>login</html>', undefined, 'text/html')).toMatchObject({
      kind: 'fatal',
      code: 'HEC_FOREIGN_RESPONSE',
    });
    expect(classifyAckPoll(200, reply(0))).toMatchObject({ kind: 'fatal', code: 'HEC_FOREIGN_RESPONSE' });
    expect(classifyAckPoll(400, reply(14))).toMatchObject({ kind: 'fatal', code: 'HEC_ACK_DISABLED' });
    expect(classifyAckPoll(503, reply(9)).kind).toBe('retry');
  });

  it('reads a health probe: only what a send would retry keeps an endpoint down', () => {
    expect(classifyHealth(200)).toBe('up');
    expect(classifyHealth(503)).toBe('down');
    expect(classifyHealth(429)).toBe('down');
    expect(classifyHealth(404)).toBe('up');
  });
});
