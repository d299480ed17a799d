import { randomUUID } from 'node:crypto';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, resolveSecretArns } from '../../src/config/index.js';
import { serviceEndpoints } from '../services/endpoints.js';

function secretsClient() {
  return new SecretsManagerClient({
    region: 'us-east-1',
    endpoint: serviceEndpoints().moto.url,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
}

async function secret(client: SecretsManagerClient, value: string): Promise<string> {
  const res = await client.send(
    new CreateSecretCommand({ Name: `asc-${randomUUID()}`, SecretString: value }),
  );
  return res.ARN!;
}

describe('secrets named by Secrets Manager ARNs', () => {
  it('fills the HEC token, webhook token and search credentials that the config binds', async () => {
    const client = secretsClient();
    const env = await resolveSecretArns(
      {
        ASC_HEC_TOKEN_SECRET_ARN: await secret(client, 'hec-token-from-secrets-manager'),
        ASC_WEBHOOK_TOKEN_SECRET_ARN: await secret(client, 'webhook-token-from-secrets-manager'),
        ASC_SEARCH_CREDENTIALS_SECRET_ARN: await secret(
          client,
          JSON.stringify({ username: 'shipper', password: 'pw-123' }),
        ),
        ASC_HEC_URLS: 'https://splunk.example.com:8088',
        ASC_SEARCH_NODE: 'https://search.example.com:9200',
        ASC_SEARCH_FLAVOUR: 'opensearch',
      },
      client,
    );
    const config = loadConfig({ env });
    expect(config.sinks.hec?.token).toBe('hec-token-from-secrets-manager');
    expect(config.webhook.token).toBe('webhook-token-from-secrets-manager');
    expect(config.sinks.search?.auth).toMatchObject({ username: 'shipper', password: 'pw-123' });
  });

  it('lets a value set in the environment win and names the variable of a secret it cannot read', async () => {
    const client = secretsClient();
    const arn = await secret(client, 'from-secrets-manager');
    const env = await resolveSecretArns(
      { ASC_HEC_TOKEN_SECRET_ARN: arn, ASC_HEC_TOKEN: 'local-override' },
      client,
    );
    expect(env.ASC_HEC_TOKEN).toBe('local-override');
    await expect(
      resolveSecretArns(
        { ASC_WEBHOOK_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:missing' },
        client,
      ),
    ).rejects.toThrow(ConfigError);
    await expect(
      resolveSecretArns(
        { ASC_WEBHOOK_TOKEN_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:missing' },
        client,
      ),
    ).rejects.toThrow(/ASC_WEBHOOK_TOKEN_SECRET_ARN/);
  });
});
