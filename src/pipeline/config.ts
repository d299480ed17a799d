import { z } from 'zod';

const logTypeRoute = z.enum(['cloudtrail', 'vpcflow', 'auto', 'skip']);

/**
 * Which decoder an object's key selects. The first matching route wins; keys that match none follow
 * `unmatched`. The defaults follow the key layouts AWS writes (AWSLogs/<account>/CloudTrail/...,
 * CloudTrail-Digest/, CloudTrail-Insight/, vpcflowlogs/, and flow logs' Hive-compatible
 * aws-service=vpcflowlogs/).
 */
export const routeSchema = z.strictObject({
  match: z.string().min(1).describe('regular expression tested against the object key'),
  logType: logTypeRoute,
});

export const DEFAULT_ROUTES: z.input<typeof routeSchema>[] = [
  { match: '/CloudTrail-Digest/', logType: 'skip' },
  { match: '/CloudTrail(-Insight)?/', logType: 'cloudtrail' },
  { match: '[/=]vpcflowlogs/', logType: 'vpcflow' },
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

/** Bytes of dead-letter entries held while they are written; see `maxPendingBytes`. */
export const DEFAULT_DEAD_LETTER_MAX_PENDING_BYTES = 8 * 1024 * 1024;

/** Where records go that no sink will ever take: a local directory or an S3 prefix. */
export const deadLetterConfigSchema = z.strictObject({
  dir: z.string().min(1).default('dead-letter'),
  s3: z
    .string()
    .regex(/^s3:\/\/[^/]+(\/.*)?$/, 'expected s3://bucket/prefix')
    .optional(),
  /**
   * What entries taken and not yet written may cost (their NDJSON bytes plus about 1 KiB each) before
   * decoding waits. A new flow-log version or an index mapping conflict rejects every record of every
   * object; without a bound those entries would pile up in memory faster than a disk or S3 takes them.
   * At least 64 KiB, the most raw text a rejected record keeps: below that, one entry alone would fill it.
   */
  maxPendingBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .default(DEFAULT_DEAD_LETTER_MAX_PENDING_BYTES),
});
export type DeadLetterConfig = z.infer<typeof deadLetterConfigSchema>;
