import { readFileSync } from 'node:fs';
import { ConnectorError } from '../errors.js';
import type { WebhookConfig } from './config.js';

export interface WebhookSecrets {
  /** For /alerts/splunk (?token=) and /alerts/kibana (Bearer). */
  token?: string | undefined;
  /** For /alerts/generic (HMAC). */
  hmacSecret?: string | undefined;
  /** For fetching Splunk results by sid. */
  splunkToken?: string | undefined;
}

/**
 * Secrets from config, the environment (ASC_WEBHOOK_TOKEN is bound to webhook.token by the config
 * loader; ASC_WEBHOOK_HMAC_SECRET is read here) or files (`*File`, e.g. a mounted Kubernetes or Docker
 * secret; one trailing newline is dropped).
 */
export function resolveWebhookSecrets(
  config: WebhookConfig,
  env: NodeJS.ProcessEnv = process.env,
): WebhookSecrets {
  return {
    token: config.token ?? readSecretFile(config.tokenFile, 'webhook.tokenFile'),
    // The environment wins over the file, as it does for every key the config loader binds.
    hmacSecret:
      strong(env.ASC_WEBHOOK_HMAC_SECRET, 'ASC_WEBHOOK_HMAC_SECRET') ??
      config.hmacSecret ??
      readSecretFile(config.hmacSecretFile, 'webhook.hmacSecretFile'),
    splunkToken: config.splunk?.token ?? readSecretFile(config.splunk?.tokenFile, 'webhook.splunk.tokenFile'),
  };
}

function strong(value: string | undefined, key: string): string | undefined {
  if (!value) return undefined;
  if (value.length < 16) {
    throw new ConnectorError('WEBHOOK_SECRET_WEAK', `${key} holds fewer than 16 characters`, {
      details: { key },
    });
  }
  return value;
}

function readSecretFile(file: string | undefined, key: string): string | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConnectorError(
      'WEBHOOK_SECRET_UNREADABLE',
      `cannot read ${key} ${file}: ${(err as Error).message}`,
      {
        details: { key, file },
      },
    );
  }
  return strong(text.replace(/\r?\n$/, ''), `${key} ${file}`) ?? strong('-', `${key} ${file}`);
}
