import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from './load.js';

/**
 * Deployments (Lambda, containers) pass secrets as Secrets Manager ARNs rather than values, so that no
 * secret sits in a template, a task definition or the function's environment. Each `<NAME>_SECRET_ARN`
 * is read once at start and becomes the environment variable the config already binds.
 */
const SECRET_ARNS: { arnEnv: string; apply(secret: string): Record<string, string> }[] = [
  { arnEnv: 'ASC_HEC_TOKEN_SECRET_ARN', apply: (secret) => ({ ASC_HEC_TOKEN: secret }) },
  { arnEnv: 'ASC_WEBHOOK_TOKEN_SECRET_ARN', apply: (secret) => ({ ASC_WEBHOOK_TOKEN: secret }) },
  { arnEnv: 'ASC_WEBHOOK_HMAC_SECRET_ARN', apply: (secret) => ({ ASC_WEBHOOK_HMAC_SECRET: secret }) },
  {
    // A JSON object with apiKey, or with username and password; a plain string is an API key.
    arnEnv: 'ASC_SEARCH_CREDENTIALS_SECRET_ARN',
    apply: (secret): Record<string, string> => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(secret);
      } catch {
        return { ASC_SEARCH_API_KEY: secret };
      }
      const creds = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
      if (typeof creds.apiKey === 'string') return { ASC_SEARCH_API_KEY: creds.apiKey };
      if (typeof creds.username === 'string' && typeof creds.password === 'string') {
        return { ASC_SEARCH_USERNAME: creds.username, ASC_SEARCH_PASSWORD: creds.password };
      }
      throw new ConfigError(
        'the search credentials secret must hold {"apiKey": ...} or {"username": ..., "password": ...}',
        { key: 'ASC_SEARCH_CREDENTIALS_SECRET_ARN' },
      );
    },
  },
];

/**
 * Returns `env` with every secret named by a `*_SECRET_ARN` variable filled in. A value already set in
 * the environment wins (so a local override needs no Secrets Manager).
 */
export async function resolveSecretArns(
  env: NodeJS.ProcessEnv,
  client?: Pick<SecretsManagerClient, 'send'>,
): Promise<NodeJS.ProcessEnv> {
  const wanted = SECRET_ARNS.filter((s) => env[s.arnEnv]);
  if (wanted.length === 0) return env;
  const sm =
    client ??
    new SecretsManagerClient({
      ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
      ...(env.ASC_AWS_ENDPOINT ? { endpoint: env.ASC_AWS_ENDPOINT } : {}),
    });
  const resolved: NodeJS.ProcessEnv = { ...env };
  for (const secret of wanted) {
    const arn = env[secret.arnEnv]!;
    let value: string | undefined;
    try {
      const res = await sm.send(new GetSecretValueCommand({ SecretId: arn }));
      value = res.SecretString;
    } catch (err) {
      throw new ConfigError(
        `cannot read the secret named by ${secret.arnEnv} (${arn})`,
        { key: secret.arnEnv },
        err,
      );
    }
    if (!value)
      throw new ConfigError(`the secret named by ${secret.arnEnv} (${arn}) has no string value`, {
        key: secret.arnEnv,
      });
    for (const [name, v] of Object.entries(secret.apply(value))) resolved[name] ??= v;
  }
  return resolved;
}
