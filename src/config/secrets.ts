import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsHttpOptions } from '../network/index.js';
import { ConfigError } from './load.js';

/**
 * How one secret's stored string becomes environment variables. `arn` is only for errors: they name the
 * secret, never its value.
 */
type Apply = (secret: string, where: SecretRef) => Record<string, string>;

interface SecretRef {
  arnEnv: string;
  arn: string;
}

/**
 * Deployments (Lambda, containers) pass secrets as Secrets Manager ARNs rather than values, so that no
 * secret sits in a template, a task definition or the function's environment. Each `<NAME>_SECRET_ARN`
 * is read once at start and becomes the environment variable the config already binds.
 *
 * A single-value secret may be stored as plain text or, as the console's key/value editor stores it, as
 * a JSON object: its documented key (`token`; `hmacSecret` for the HMAC secret) or its only string value.
 * The search credentials hold `{"apiKey": …}` or `{"username": …, "password": …}`, or a plain API key.
 */
const SECRET_ARNS: { arnEnv: string; apply: Apply }[] = [
  { arnEnv: 'ASC_HEC_TOKEN_SECRET_ARN', apply: single('ASC_HEC_TOKEN', 'token') },
  { arnEnv: 'ASC_WEBHOOK_TOKEN_SECRET_ARN', apply: single('ASC_WEBHOOK_TOKEN', 'token') },
  { arnEnv: 'ASC_WEBHOOK_HMAC_SECRET_ARN', apply: single('ASC_WEBHOOK_HMAC_SECRET', 'hmacSecret') },
  {
    arnEnv: 'ASC_SEARCH_CREDENTIALS_SECRET_ARN',
    apply: (secret, where): Record<string, string> => {
      const creds = jsonObject(secret, where, '{"apiKey": …} or {"username": …, "password": …}');
      if (!creds) return { ASC_SEARCH_API_KEY: secret };
      const apiKey = text(creds.apiKey);
      if (apiKey) return { ASC_SEARCH_API_KEY: apiKey };
      const username = text(creds.username);
      const password = text(creds.password);
      if (username && password) return { ASC_SEARCH_USERNAME: username, ASC_SEARCH_PASSWORD: password };
      throw refused(where, 'must hold {"apiKey": …} or {"username": …, "password": …} (or a plain API key)');
    },
  },
];

/** A secret of one value: plain text, or a JSON object with `key` or with exactly one string value. */
function single(envName: string, key: string): Apply {
  return (secret, where) => {
    const object = jsonObject(secret, where, `{"${key}": …}`);
    if (!object) return { [envName]: secret };
    const documented = text(object[key]);
    if (documented) return { [envName]: documented };
    const values = Object.values(object);
    const only = values.length === 1 ? text(values[0]) : undefined;
    if (only) return { [envName]: only };
    throw refused(
      where,
      `is a JSON object without "${key}": store the value as plain text, as {"${key}": …}, or as an object with one string value`,
    );
  };
}

/**
 * The secret as a JSON object, or undefined for plain text. Text that starts like JSON but is not an
 * object is refused: used as it is, `"abc"` or `["abc"]` would only fail later as a wrong credential.
 */
function jsonObject(secret: string, where: SecretRef, shape: string): Record<string, unknown> | undefined {
  if (!/^[{["]/.test(secret)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    // The parser's message quotes the secret: say only that it is not JSON.
    throw refused(where, `starts like JSON but is not valid JSON: store plain text or ${shape}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw refused(where, `is JSON but not an object: store plain text or ${shape}`);
  }
  return parsed as Record<string, unknown>;
}

/** A string value with surrounding whitespace (a trailing newline from `file://` or echo) removed. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

function refused(where: SecretRef, why: string): ConfigError {
  return new ConfigError(`the secret named by ${where.arnEnv} (${where.arn}) ${why}`, {
    key: where.arnEnv,
  });
}

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
      ...awsHttpOptions(),
    });
  const resolved: NodeJS.ProcessEnv = { ...env };
  for (const secret of wanted) {
    const where = { arnEnv: secret.arnEnv, arn: env[secret.arnEnv]! };
    let value: string | undefined;
    try {
      const res = await sm.send(new GetSecretValueCommand({ SecretId: where.arn }));
      value = res.SecretString;
    } catch (err) {
      throw new ConfigError(
        `cannot read the secret named by ${where.arnEnv} (${where.arn})`,
        { key: where.arnEnv },
        err,
      );
    }
    // Stored with `--secret-string file://token` or from `echo`, a secret ends in a line break that would
    // break the Authorization header; surrounding whitespace is never part of a token, key or password.
    const trimmed = value?.trim();
    if (!trimmed) throw refused(where, 'has no string value');
    for (const [name, v] of Object.entries(secret.apply(trimmed, where))) resolved[name] ??= v;
  }
  return resolved;
}
