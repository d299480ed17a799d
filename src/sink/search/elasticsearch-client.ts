import { Client } from '@elastic/elasticsearch';
import {
  BULK_FILTER_PATH,
  type BulkResult,
  type JsonResponse,
  type SearchClient,
  sendRequest,
  toBulkResult,
} from './client.js';
import type { SearchSinkConfig } from './config.js';
import { readCa, readSecret } from './secrets.js';

type ClientOptions = ConstructorParameters<typeof Client>[0];

/** Options for `@elastic/elasticsearch` from our config (exported for tests of the wiring). */
export function elasticsearchClientOptions(config: SearchSinkConfig): ClientOptions {
  const auth = config.auth ?? {};
  const ca = readCa(config.tls.caFile);
  const options: ClientOptions = {
    // The sink owns retries, so the client must not retry underneath it (that would multiply attempts).
    maxRetries: 0,
    requestTimeout: config.requestTimeoutMs,
    compression: config.compression,
    tls: { rejectUnauthorized: config.tls.rejectUnauthorized, ...(ca ? { ca } : {}) },
  };
  if (config.cloudId !== undefined) options.cloud = { id: config.cloudId };
  else if (config.node !== undefined) options.node = config.node;
  const apiKey = readSecret(auth.apiKey, auth.apiKeyFile, 'auth.apiKey');
  const password = readSecret(auth.password, auth.passwordFile, 'auth.password');
  if (apiKey !== undefined) options.auth = { apiKey };
  else if (auth.username !== undefined && password !== undefined) {
    options.auth = { username: auth.username, password };
  }
  return options;
}

export function createElasticsearchClient(config: SearchSinkConfig, client?: Client): SearchClient {
  const es = client ?? new Client(elasticsearchClientOptions(config));
  return {
    flavour: 'elasticsearch',
    async bulk(body: Buffer): Promise<BulkResult> {
      const res = await sendRequest('Elasticsearch', () =>
        es.transport.request(
          { method: 'POST', path: '/_bulk', bulkBody: body, querystring: { filter_path: BULK_FILTER_PATH } },
          { meta: true },
        ),
      );
      return toBulkResult(res.status, res.body);
    },
    request(method, path, body): Promise<JsonResponse> {
      return sendRequest('Elasticsearch', () =>
        es.transport.request(
          { method, path, ...(body === undefined ? {} : { body: body as Record<string, unknown> }) },
          { meta: true },
        ),
      );
    },
    close: () => es.close(),
  };
}
