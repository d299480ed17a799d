import { z } from 'zod';
import { FLOW_FIELDS } from '../decode/tables.js';

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

/**
 * Custom flow log formats (`${version} ${srcaddr} …`, or the names alone) for flow logs that reach S3
 * without their header line (through CloudWatch Logs or Firehose): a header-less line is read in the
 * format of its field count, before AWS's and Elastic's known layouts. Every name must be a field AWS
 * documents, once; two formats may not have the same count (a line could not tell which it is).
 */
const flowFormatsSchema = z
  .array(z.string().transform((format) => format.replace(/\$\{([^}]*)\}/g, '$1').trim()))
  .default([])
  .superRefine((formats, ctx) => {
    const counts = new Map<number, number>();
    formats.forEach((format, i) => {
      const names = format.split(/\s+/);
      const unknown = names.find((n) => !FLOW_FIELDS.has(n));
      if (format === '' || unknown !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `"${unknown ?? ''}" is not a VPC flow log field`,
        });
      } else if (new Set(names).size !== names.length) {
        ctx.addIssue({ code: 'custom', path: [i], message: 'names a field twice' });
      } else if (counts.has(names.length)) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `has ${names.length} fields, as format ${counts.get(names.length)} has: a line could not tell them apart`,
        });
      }
      counts.set(names.length, i);
    });
  });

/** How much work is in flight at once; memory is bounded by these numbers, not by input size. */
export const pipelineConfigSchema = z.strictObject({
  /** Objects read, decoded and shipped at once, across all queues. */
  maxInFlightObjects: z.number().int().positive().default(8),
  routes: z.array(routeSchema).default(DEFAULT_ROUTES.map((r) => ({ ...r }))),
  /** What to do with keys no route matches: skip them (counted) or choose the decoder from the content. */
  unmatched: z.enum(['skip', 'auto']).default('skip'),
  flowFormats: flowFormatsSchema,
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
