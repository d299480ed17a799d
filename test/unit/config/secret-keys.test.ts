import { describe, expect, it } from 'vitest';
import { isSecretKey } from '../../../src/config/index.js';
import { REDACTED, redactSecrets } from '../../../src/observe/index.js';

// Names from both former lists (config's and the logger's), in the spellings each side meets.
const SECRET = [
  'token',
  'password',
  'secret',
  'apiKey',
  'hmacSecret',
  'sessionToken',
  'passwd',
  'authorization',
  'Proxy-Authorization',
  'x-splunk-token',
  'secretAccessKey',
  'AWS_SECRET_ACCESS_KEY',
  'secretKey',
  'privateKey',
  'cookie',
  'api_key',
  'ASC_HEC_TOKEN',
  'auth',
];
const NOT_SECRET = [
  'tokenFile',
  'hmacSecretFile',
  'apiKeyFile',
  'tokenSecretArn',
  'accessKeyId',
  'username',
  'rejectUnauthorized',
  'protectedTagKeys',
  'url',
  'index',
];

describe('isSecretKey', () => {
  it.each(SECRET)('%s holds a secret', (name) => {
    expect(isSecretKey(['sinks', 'x', name])).toBe(true);
  });

  it.each(NOT_SECRET)('%s does not', (name) => {
    expect(isSecretKey(['sinks', 'x', name])).toBe(false);
  });

  it('asks only the last segment of the path', () => {
    expect(isSecretKey(['token', 'index'])).toBe(false);
    expect(isSecretKey(['auth', 'username'])).toBe(false);
    expect(isSecretKey(['list', 0])).toBe(false);
    expect(isSecretKey([])).toBe(false);
  });

  // One list decides both; should a second one appear, the two would part here.
  it.each([...SECRET, ...NOT_SECRET])('agrees with what the logger redacts: %s', (name) => {
    const logged = redactSecrets({ [name]: 'a-string-value' }) as Record<string, unknown>;
    expect(isSecretKey([name])).toBe(logged[name] === REDACTED);
  });
});
