import { z } from 'zod';

/** Splunk HEC sink settings. Owned by the HEC sink; the root schema only composes it. */
export const hecSinkConfigSchema = z.strictObject({
  urls: z.array(z.url()).min(1),
  token: z.string().min(1),
});
export type HecSinkConfig = z.infer<typeof hecSinkConfigSchema>;
