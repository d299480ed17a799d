import { z } from 'zod';
import { sinkLogTypesSchema } from '../log-types.js';

/** Writes documents as NDJSON files, one per log type and schema, under `dir`. */
export const fileSinkConfigSchema = z.strictObject({
  dir: z.string().min(1).default('out'),
  schema: z.enum(['ecs', 'cim']).default('ecs'),
  logTypes: sinkLogTypesSchema,
});
export type FileSinkConfig = z.infer<typeof fileSinkConfigSchema>;
