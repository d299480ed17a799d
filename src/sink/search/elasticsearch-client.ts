import { Client, HttpConnection } from '@elastic/elasticsearch';
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

type ClientOptions = ConstructorParameters<typeof Client>[0];

/**
 * REST API compatibility with 8.x, sent on every request. The 9.x client asks for `compatible-with=9`,
 * which Elasticsearch 8.x refuses (400 media_type_header_exception); 9.x servers accept
 * `compatible-with=8` (REST API compatibility keeps the previous major working), so one client serves
 * both. `headers` is the client's documented option for headers sent with each request; the client only
 * fills in `accept` and `content-type` where none is set.
 */
const COMPATIBLE_WITH_8 = {
  json: 'application/vnd.elasticsearch+json; compatible-with=8',
  ndjson: 'application/vnd.elasticsearch+x-ndjson; compatible-with=8',
} as const;

/**
 * The Elasticsearch URL an Elastic Cloud id names (`name:base64(host$es-id$kibana-id)`), so that the proxy
 * routes can judge it as they judge a `node`; undefined when the id cannot be read (the client refuses it).
 */
function cloudIdUrl(cloudId: string): string | undefined {
  const [host, esId] = Buffer.from(cloudId.slice(cloudId.indexOf(':') + 1), 'base64')
    .toString()
    .split('$');
  if (!host || !esId) return undefined;
  const [hostname, port] = host.split(':');
  return `https://${esId}.${hostname}${port ? `:${port}` : ''}`;
}

/** Options for `@elastic/elasticsearch` from our config (exported for tests of the wiring). */
export function elasticsearchClientOptions(config: SearchSinkConfig): ClientOptions {
  const auth = config.auth ?? {};
  const options: ClientOptions = {
    // The sink owns retries, so the client must not retry underneath it (that would multiply attempts).
    maxRetries: 0,
    requestTimeout: config.requestTimeoutMs,
    compression: config.compression,
    tls: tlsOptions(config.tls, readTlsFile),
    headers: { accept: COMPATIBLE_WITH_8.json, 'content-type': COMPATIBLE_WITH_8.json },
  };
  if (config.cloudId !== undefined) options.cloud = { id: config.cloudId };
  else if (config.node !== undefined) options.node = config.node;
  const proxy = searchProxy(config.cloudId !== undefined ? cloudIdUrl(config.cloudId) : config.node);
  if (proxy) {
    // The client's default (undici) connection cannot use a proxy; its Node http one can.
    options.proxy = proxy;
    options.Connection = HttpConnection;
  }
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
          // A bulk body is NDJSON: the client-wide JSON content type would not describe it.
          { meta: true, headers: { 'content-type': COMPATIBLE_WITH_8.ndjson } },
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
