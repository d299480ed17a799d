import { describe, expect, it } from 'vitest';
import { maskToken, REDACTED, redactSecrets } from '../../../src/observe/index.js';
import { captureLogger } from '../sink/hec/helpers.js';

const SECRET = 'S3CR3T-value-9f8e7d';

describe('logger: secrets are redacted at any depth and in any case', () => {
  const shapes: [string, Record<string, unknown>][] = [
    ['a capitalised Authorization header', { headers: { Authorization: `Splunk ${SECRET}` } }],
    ['X-Splunk-Token in a request', { req: { headers: { 'X-Splunk-Token': SECRET } } }],
    ['a proxy-authorization header', { headers: { 'Proxy-Authorization': `Basic ${SECRET}` } }],
    ['hmacSecret deep in config', { config: { webhook: { hmacSecret: SECRET } } }],
    ['the webhook Splunk token', { config: { webhook: { splunk: { token: SECRET } } } }],
    ['the webhook token', { config: { webhook: { token: SECRET } } }],
    ['the HEC token', { config: { sinks: { hec: { token: SECRET } } } }],
    ['the search API key', { config: { sinks: { search: { auth: { apiKey: SECRET } } } } }],
    ['the search password', { config: { sinks: { search: { auth: { username: 'u', password: SECRET } } } } }],
    ['AWS secret access key', { creds: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET } }],
    ['AWS session token', { credentials: { sessionToken: SECRET } }],
    [
      'secrets in env names',
      { env: { ASC_HEC_TOKEN: SECRET, ASC_SEARCH_API_KEY: SECRET, AWS_SECRET_ACCESS_KEY: SECRET } },
    ],
    [
      'a header deep in an error-like cause',
      { err: { cause: { config: { headers: { authorization: `Bearer ${SECRET}` } } } } },
    ],
    ['an array of objects', { attempts: [{ ok: true }, { headers: { authorization: SECRET } }] }],
    ['a token in a URL query', { url: `https://h/alerts/splunk?token=${SECRET}&x=1` }],
    ['an auth string', { request: { auth: `user:${SECRET}` } }],
    ['a URL password under any key', { node: `https://elastic:${SECRET}@search:9200` }],
    ['URLs in a list', { urls: ['https://h:8088', `https://h2:8088/?token=${SECRET}`] }],
    ['a top-level token', { token: SECRET }],
  ];

  for (const [name, fields] of shapes) {
    it(name, () => {
      const { log, text } = captureLogger();
      log.info(fields, 'a line');
      expect(text()).toContain('a line');
      expect(text()).not.toContain(SECRET);
      expect(text()).toContain(REDACTED);
    });
  }

  it('an error whose property or cause holds a header keeps its type, message and stack', () => {
    class SdkError extends Error {
      code = 'Forbidden';
      $metadata = { httpStatusCode: 403 };
      request = { headers: { Authorization: `AWS4-HMAC-SHA256 Signature=${SECRET}` } };
    }
    const cause = new Error('inner', { cause: { headers: { 'x-splunk-token': SECRET } } });
    const err = new SdkError('access denied', { cause });
    const { log, text } = captureLogger();
    log.error({ err }, 'call failed');
    log.error(err);
    expect(text()).not.toContain(SECRET);
    const lines = text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { err: Record<string, unknown> });
    for (const line of lines) {
      expect(line.err).toMatchObject({
        type: 'SdkError',
        message: 'access denied: inner',
        code: 'Forbidden',
      });
      expect(String(line.err.stack)).toContain('access denied');
      expect(line.err.request).toEqual({ headers: { Authorization: REDACTED } });
    }
    // The caller's error is left as it was.
    expect(err.request.headers.Authorization).toContain(SECRET);
  });

  it('an error without secrets is printed as before', () => {
    const { log, text } = captureLogger();
    log.error({ err: Object.assign(new Error('plain'), { code: 'X' }) }, 'failed');
    expect(JSON.parse(text())).toMatchObject({ err: { type: 'Error', message: 'plain', code: 'X' } });
  });

  it('keeps paths and other values that only name where a secret is', () => {
    const settings = {
      tokenFile: '/run/secrets/hec',
      hmacSecretFile: '/run/secrets/hmac',
      tokenSecretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x',
      accessKeyId: 'AKIAEXAMPLE',
      username: 'elastic',
      code: 'HEC_TOKEN_INVALID',
    };
    const { log, text } = captureLogger();
    log.info({ ...settings }, 'settings');
    expect(JSON.parse(text())).toMatchObject(settings);
  });

  it('never modifies the logged object, and survives cycles', () => {
    const config: Record<string, unknown> = { sinks: { hec: { token: SECRET } } };
    config.self = config;
    const { log, text } = captureLogger();
    log.info({ config }, 'cyclic');
    expect(text()).not.toContain(SECRET);
    expect((config.sinks as { hec: { token: string } }).hec.token).toBe(SECRET);
  });

  it('returns objects without secrets as they are (no copy on the common path)', () => {
    const fields = { sink: 'hec', status: 503, nested: { url: 'https://h:8088', events: [1, 2, 3] } };
    expect(redactSecrets(fields)).toBe(fields);
  });
});

describe("maskToken: a token echoed in a receiver's reply", () => {
  it('masks every occurrence of the token', () => {
    const reply = `{"text":"Invalid token","token":"${SECRET}","echo":"Splunk ${SECRET}"}${SECRET}`;
    expect(maskToken(reply, SECRET)).toBe(
      '{"text":"Invalid token","token":"[token]","echo":"Splunk [token]"}[token]',
    );
  });

  it('leaves text without the token as it is', () => {
    expect(maskToken('HTTP 403: forbidden', SECRET)).toBe('HTTP 403: forbidden');
  });

  it('leaves the text as it is when there is no token to look for', () => {
    // Splitting on '' would put a marker between every character.
    expect(maskToken('HTTP 403: forbidden', '')).toBe('HTTP 403: forbidden');
    expect(maskToken('HTTP 403: forbidden', undefined)).toBe('HTTP 403: forbidden');
  });
});
