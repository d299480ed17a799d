import { Client } from '@opensearch-project/opensearch';
import { serviceEndpoints } from '../../services/endpoints.js';

export function openSearchClient(): Client {
  return new Client({ node: serviceEndpoints().opensearch.url });
}

/** Documents in the indices matching `pattern`, after a refresh; optionally only those from one S3 key. */
export async function countDocs(
  client: Client,
  pattern: string,
  query?: Record<string, unknown>,
): Promise<number> {
  await client.indices.refresh({ index: pattern, ignore_unavailable: true, allow_no_indices: true } as never);
  const res = await client.count({
    index: pattern,
    ignore_unavailable: true,
    allow_no_indices: true,
    body: query ? { query } : {},
  } as never);
  return Number((res.body as { count: number }).count);
}

/** Distinct document ids in `pattern` (to tell duplicates from missing documents). */
export async function distinctIds(client: Client, pattern: string): Promise<Set<string>> {
  await client.indices.refresh({ index: pattern, ignore_unavailable: true, allow_no_indices: true } as never);
  const ids = new Set<string>();
  let res = await client.search({
    index: pattern,
    scroll: '30s',
    size: 1000,
    body: { _source: false },
  } as never);
  for (;;) {
    const body = res.body as { _scroll_id?: string; hits: { hits: { _id: string }[] } };
    if (body.hits.hits.length === 0) break;
    for (const hit of body.hits.hits) ids.add(hit._id);
    res = await client.scroll({ scroll_id: body._scroll_id!, scroll: '30s' } as never);
  }
  return ids;
}
