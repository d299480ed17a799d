import { z } from 'zod';

/** How much work is in flight at once; memory is bounded by these numbers, not by input size. */
export const pipelineConfigSchema = z.strictObject({
  maxInFlightObjects: z.number().int().positive().default(8),
});
export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;

/** Where records go that no sink will ever take: a local directory or an S3 prefix. */
export const deadLetterConfigSchema = z.strictObject({
  dir: z.string().min(1).optional(),
  s3: z
    .string()
    .regex(/^s3:\/\/[^/]+(\/.*)?$/, 'expected s3://bucket/prefix')
    .optional(),
});
export type DeadLetterConfig = z.infer<typeof deadLetterConfigSchema>;
