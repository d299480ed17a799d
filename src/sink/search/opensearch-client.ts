import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Client, type ClientOptions } from '@opensearch-project/opensearch';
import { AwsSigv4Signer } from '@opensearch-project/opensearch/aws-v3';
import { awsHttpOptions } from '../../network/index.js';
import { tlsOptions } from '../tls.js';
import {
  BULK_FILTER_PATH,
  type BulkResult,
  type JsonResponse,
  type SearchClient,
  searchProxy,
  sendRequest,
  toBulkResult,
} from './client.js';
import type { SearchSinkConfig } from './config.js';
import { readSecret, readTlsFile } from './secrets.js';

/** Options for `@opensearch-project/opensearch` from our config (exported for tests of the wiring). */
export function openSearchClientOptions(config: SearchSinkConfig): ClientOptions {
  const auth = config.auth ?? {};
  const options: ClientOptions = {
    node: config.node,
    // The sink owns retries, so the client must not retry underneath it (that would multiply attempts).
    maxRetries: 0,
    requestTimeout: config.requestTimeoutMs,
    ssl: tlsOptions(config.tls, readTlsFile),
    ...(config.compression ? { compression: 'gzip' as const } : {}),
  };
  const proxy = searchProxy(config.node);
  if (proxy) options.proxy = proxy;
  const apiKey = readSecret(auth.apiKey, auth.apiKeyFile, 'auth.apiKey');
  if (apiKey !== undefined) options.headers = { authorization: `ApiKey ${apiKey}` };
  const password = readSecret(auth.password, auth.passwordFile, 'auth.password');
  if (auth.username !== undefined && password !== undefined) {
    options.auth = { username: auth.username, password };
  }
  if (auth.sigv4) {
    const signer = AwsSigv4Signer({
      region: auth.sigv4.region,
      service: auth.sigv4.service,
      // The SDK's default chain: env, shared config, SSO, web identity, container and instance roles (its
      // STS and SSO calls through the proxy when there is one).
      getCredentials: fromNodeProviderChain({ clientConfig: awsHttpOptions() }),
    });
    Object.assign(options, signer);
  }
  return options;
}

export function createOpenSearchClient(config: SearchSinkConfig, client?: Client): SearchClient {
  const os = client ?? new Client(openSearchClientOptions(config));
  return {
    flavour: 'opensearch',
    async bulk(body: Buffer): Promise<BulkResult> {
      const res = await sendRequest('OpenSearch', () =>
        os.transport.request({
          method: 'POST',
          path: '/_bulk',
          bulkBody: body,
          querystring: { filter_path: BULK_FILTER_PATH },
        }),
      );
      return toBulkResult(res.status, res.body);
    },
    request(method, path, body): Promise<JsonResponse> {
      return sendRequest('OpenSearch', () =>
        os.transport.request({ method, path, ...(body === undefined ? {} : { body: body as object }) }),
      );
    },
    close: () => os.close(),
  };
}
