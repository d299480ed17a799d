import { type Logger, logger as rootLogger } from '../../observe/index.js';
import { createBulkWriter, type SearchResponseInfo, type SearchSink } from './bulk-writer.js';
import type { SearchClient } from './client.js';
import type { SearchSinkConfig } from './config.js';
import { createElasticsearchClient } from './elasticsearch-client.js';
import { createOpenSearchClient } from './opensearch-client.js';
import { installTemplates } from './templates.js';

export type { SearchDocument, SearchResponseInfo, SearchSink, SearchSinkStats } from './bulk-writer.js';
export type { BulkItemResult, BulkResult, JsonResponse, SearchClient } from './client.js';
export { SearchTransportError } from './client.js';
export {
  type SearchSinkConfig,
  type SearchSinkConfigInput,
  searchSinkConfigSchema,
} from './config.js';
export { SearchSinkError, type SearchSinkErrorCode } from './errors.js';
export { type Artefact, buildArtefacts, type InstallResult, installTemplates } from './templates.js';

/** The client for the configured flavour: `@elastic/elasticsearch` or `@opensearch-project/opensearch`. */
export function createSearchClient(config: SearchSinkConfig): SearchClient {
  return config.flavour === 'elasticsearch'
    ? createElasticsearchClient(config)
    : createOpenSearchClient(config);
}

/**
 * The Elasticsearch / OpenSearch sink. With `setup.auto` (the default) it installs or updates its
 * templates before the first bulk request.
 */
export function createSearchSink(
  config: SearchSinkConfig,
  deps: {
    client?: SearchClient;
    logger?: Logger;
    /** Called after every bulk request, for metrics. */
    onResponse?: (info: SearchResponseInfo) => void;
  } = {},
): SearchSink {
  const client = deps.client ?? createSearchClient(config);
  const log = (deps.logger ?? rootLogger()).child({ sink: 'search', flavour: config.flavour });
  const setup = config.setup.auto
    ? async () => {
        const results = await installTemplates(client, config);
        const changed = results.filter((r) => r.status !== 'unchanged');
        log.info({ changed: changed.map((r) => `${r.name}: ${r.status}`) }, 'search sink: templates ready');
      }
    : undefined;
  return createBulkWriter({
    config,
    client,
    log,
    ...(setup ? { setup } : {}),
    ...(deps.onResponse ? { onResponse: deps.onResponse } : {}),
  });
}
