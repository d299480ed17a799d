import { Client } from '@opensearch-project/opensearch';
import { serviceEndpoints } from '../../services/endpoints.js';

// Counting documents and their distinct ids is the bench's too: one implementation serves both.
export { countDocs, distinctIds } from '../../../src/bench/search-admin.js';

export function openSearchClient(): Client {
  return new Client({ node: serviceEndpoints().opensearch.url });
}
