import type { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, resolveSecretArns } from '../../../src/config/index.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:asc-hec-AbCdEf';

/** A Secrets Manager client that answers every ARN from `store`; no AWS involved. */
function fakeSecrets(store: Record<string, string>): Parameters<typeof resolveSecretArns>[1] {
  const client = {
    send: async (command: GetSecretValueCommand) => {
      const id = command.input.SecretId!;
      if (!(id in store)) throw new Error(`ResourceNotFoundException: ${id}`);
      return { SecretString: store[id] };
    },
  };
  return client as unknown as Parameters<typeof resolveSecretArns>[1];
}

async function resolved(arnEnv: string, secret: string): Promise<NodeJS.ProcessEnv> {
  return resolveSecretArns({ [arnEnv]: ARN }, fakeSecrets({ [ARN]: secret }));
}

async function refusal(arnEnv: string, secret: string): Promise<ConfigError> {
  const err = await resolved(arnEnv, secret).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('secrets named by Secrets Manager ARNs', () => {
  it.each([
    ['a trailing newline (--secret-string file://tok)', 'hec-token-1234\n'],
    ['a CRLF and spaces', '  hec-token-1234\r\n'],
    ['the documented key', '{"token": "hec-token-1234"}'],
    ['the documented key beside others', '{"token": "hec-token-1234\\n", "note": "rotated 2026-01"}'],
    ['an object with one string value', '{"hec": "hec-token-1234"}'],
  ])('use the HEC token without what surrounds it: %s', async (_label, secret) => {
    expect((await resolved('ASC_HEC_TOKEN_SECRET_ARN', secret)).ASC_HEC_TOKEN).toBe('hec-token-1234');
  });

  it('read the webhook token and HMAC secret the same way, by their documented keys', async () => {
    const env = await resolveSecretArns(
      { ASC_WEBHOOK_TOKEN_SECRET_ARN: 'arn:t', ASC_WEBHOOK_HMAC_SECRET_ARN: 'arn:h' },
      fakeSecrets({
        'arn:t': '{"token":"webhook-token-0123456789"}\n',
        'arn:h': '{"hmacSecret":"hmac-secret-0123456789","token":"other"}',
      }),
    );
    expect(env.ASC_WEBHOOK_TOKEN).toBe('webhook-token-0123456789');
    expect(env.ASC_WEBHOOK_HMAC_SECRET).toBe('hmac-secret-0123456789');
  });

  it('give a HEC token that the loaded config carries unchanged', async () => {
    const env = await resolveSecretArns(
      { ASC_HEC_URLS: 'https://splunk.example.com:8088', ASC_HEC_TOKEN_SECRET_ARN: ARN },
      fakeSecrets({ [ARN]: '11111111-2222-3333-4444-555555555555\n' }),
    );
    expect(loadConfig({ env }).sinks.hec?.token).toBe('11111111-2222-3333-4444-555555555555');
  });

  it.each([
    ['an object without the key and several values', '{"user": "a", "pass": "SECRET-v4lue"}'],
    ['an object whose only value is not text', '{"token": 12345}'],
    ['a JSON string', '"SECRET-v4lue"'],
    ['a JSON array', '["SECRET-v4lue"]'],
    ['broken JSON', '{"token": "SECRET-v4lue"'],
    ['only whitespace', ' \n'],
  ])('refuse %s, naming the variable and the ARN but not the value', async (_label, secret) => {
    const err = await refusal('ASC_HEC_TOKEN_SECRET_ARN', secret);
    expect(err.message).toContain('ASC_HEC_TOKEN_SECRET_ARN');
    expect(err.message).toContain(ARN);
    expect(err.details.key).toBe('ASC_HEC_TOKEN_SECRET_ARN');
    expect(JSON.stringify(err)).not.toContain('SECRET-v4lue');
    expect(err.cause).toBeUndefined();
  });

  it('read search credentials as an API key or username and password, trimmed', async () => {
    expect((await resolved('ASC_SEARCH_CREDENTIALS_SECRET_ARN', 'api-key-123\n')).ASC_SEARCH_API_KEY).toBe(
      'api-key-123',
    );
    expect(
      (await resolved('ASC_SEARCH_CREDENTIALS_SECRET_ARN', '{"apiKey":"api-key-123\\n"}')).ASC_SEARCH_API_KEY,
    ).toBe('api-key-123');
    const basic = await resolved(
      'ASC_SEARCH_CREDENTIALS_SECRET_ARN',
      '{"username":"shipper","password":"pw-1\\n"}',
    );
    expect([basic.ASC_SEARCH_USERNAME, basic.ASC_SEARCH_PASSWORD]).toEqual(['shipper', 'pw-1']);
  });

  it.each([
    ['another key name', '{"api_key": "SECRET-v4lue"}'],
    ['a password without a username', '{"password": "SECRET-v4lue"}'],
    ['a JSON string', '"SECRET-v4lue"'],
  ])('refuse search credentials with %s, naming the ARN', async (_label, secret) => {
    const err = await refusal('ASC_SEARCH_CREDENTIALS_SECRET_ARN', secret);
    expect(err.message).toContain(`ASC_SEARCH_CREDENTIALS_SECRET_ARN (${ARN})`);
    expect(err.message).not.toContain('SECRET-v4lue');
  });

  it('let a value set in the environment win', async () => {
    const client = fakeSecrets({ [ARN]: 'from-secrets-manager' });
    const env = await resolveSecretArns({ ASC_HEC_TOKEN_SECRET_ARN: ARN, ASC_HEC_TOKEN: 'local' }, client);
    expect(env.ASC_HEC_TOKEN).toBe('local');
  });
});
