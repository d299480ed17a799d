import { z } from 'zod';

const logTypeRoute = z.enum(['cloudtrail', 'vpcflow', 'auto', 'skip']);

/**
 * Which decoder an object's key selects. The first matching route wins; keys that match none follow
 * `unmatched`. The defaults follow the key layouts AWS writes (AWSLogs/<account>/CloudTrail/...,
 * CloudTrail-Digest/, CloudTrail-Insight/, vpcflowlogs/).
 */
export const routeSchema = z.strictObject({
  match: z.string().min(1).describe('regular expression tested against the object key'),
  logType: logTypeRoute,
});

export const DEFAULT_ROUTES: z.input<typeof routeSchema>[] = [
  { match: '/CloudTrail-Digest/', logType: 'skip' },
  { match: '/CloudTrail(-Insight)?/', logType: 'cloudtrail' },
  { match: '/vpcflowlogs/', logType: 'vpcflow' },
];

/** How much work is in flight at once; memory is bounded by these numbers, not by input size. */
export const pipelineConfigSchema = z.strictObject({
  /** Objects read, decoded and shipped at once, across all queues. */
  maxInFlightObjects: z.number().int().positive().default(8),
  routes: z.array(routeSchema).default(DEFAULT_ROUTES.map((r) => ({ ...r }))),
  /** What to do with keys no route matches: skip them (counted) or choose the decoder from the content. */
  unmatched: z.enum(['skip', 'auto']).default('skip'),
});
export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;
export type Route = z.infer<typeof routeSchema>;

/** Where records go that no sink will ever take: a local directory or an S3 prefix. */
export const deadLetterConfigSchema = z.strictObject({
  dir: z.string().min(1).default('dead-letter'),
  s3: z
    .string()
    .regex(/^s3:\/\/[^/]+(\/.*)?$/, 'expected s3://bucket/prefix')
    .optional(),
});
export type DeadLetterConfig = z.infer<typeof deadLetterConfigSchema>;
