import { z } from 'zod';

/** Elasticsearch / OpenSearch sink settings. Owned by the search sink; the root schema only composes it. */
export const searchSinkConfigSchema = z.strictObject({
  flavour: z.enum(['elasticsearch', 'opensearch']),
  node: z.url(),
});
export type SearchSinkConfig = z.infer<typeof searchSinkConfigSchema>;
