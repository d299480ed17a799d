import { Client } from '@opensearch-project/opensearch';

const everywhere = { ignore_unavailable: true, allow_no_indices: true };

/** Documents in the indices matching `pattern`, after a refresh; optionally only those a query matches. */
export async function countDocs(
  client: Client,
  pattern: string,
  query?: Record<string, unknown>,
): Promise<number> {
  await client.indices.refresh({ index: pattern, ...everywhere } as never);
  const res = await client.count({ index: pattern, ...everywhere, body: query ? { query } : {} } as never);
  return Number((res.body as { count: number }).count);
}

/**
 * Distinct `_id`s under `pattern`, by scrolling after a refresh. Ids are deterministic, so a double shows
 * as a count above this, and a loss as this below the records sent.
 */
export async function distinctIds(client: Client, pattern: string): Promise<Set<string>> {
  await client.indices.refresh({ index: pattern, ...everywhere } as never);
  const ids = new Set<string>();
  let res = await client.search({
    index: pattern,
    scroll: '30s',
    size: 5000,
    body: { _source: false, sort: ['_doc'] },
  } as never);
  for (;;) {
    const body = res.body as { _scroll_id?: string; hits: { hits: { _id: string }[] } };
    if (body.hits.hits.length === 0) break;
    for (const hit of body.hits.hits) ids.add(hit._id);
    res = await client.scroll({ scroll_id: body._scroll_id!, scroll: '30s' } as never);
  }
  return ids;
}

/** Admin calls the bench makes beside the sink: counting what arrived and removing what it created. */
export function searchAdmin(node: string) {
  const client = new Client({ node });
  return {
    client,
    count: (pattern: string) => countDocs(client, pattern),
    distinctIds: async (pattern: string) => (await distinctIds(client, pattern)).size,
    async refreshInterval(pattern: string): Promise<string> {
      const res = await client.indices.getSettings({
        index: pattern,
        include_defaults: true,
        name: 'index.refresh_interval',
      } as never);
      const first = Object.values(res.body as Record<string, { settings?: unknown; defaults?: unknown }>)[0];
      const pick = (s: unknown): string | undefined =>
        (s as { index?: { refresh_interval?: string } } | undefined)?.index?.refresh_interval;
      return pick(first?.settings) ?? pick(first?.defaults) ?? '1s';
    },
    /** Removes the indices and templates whose names start with `prefix`. */
    async remove(prefix: string): Promise<void> {
      await client.indices
        .delete({ index: `${prefix}*`, ignore_unavailable: true, allow_no_indices: true } as never)
        .catch(() => undefined);
      for (const kind of ['_index_template', '_component_template']) {
        const res = await client.transport
          .request({ method: 'GET', path: `/${kind}/${prefix}*` })
          .catch(() => undefined);
        const body = res?.body as
          | { index_templates?: { name: string }[]; component_templates?: { name: string }[] }
          | undefined;
        for (const t of body?.index_templates ?? body?.component_templates ?? []) {
          await client.transport
            .request({ method: 'DELETE', path: `/${kind}/${t.name}` })
            .catch(() => undefined);
        }
      }
    },
    close: () => client.close(),
  };
}
