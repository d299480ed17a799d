import { z } from 'zod';
import { FLOW_FIELDS } from '../decode/tables.js';
import { compileDropFilters } from './drop.js';

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
  // Amazon Security Lake's sources (OCSF in Parquet): CloudTrail management, S3 and Lambda data events; flows.
  { match: '/(CLOUD_TRAIL_MGMT|S3_DATA|LAMBDA_EXECUTION)/', logType: 'cloudtrail' },
  { match: '/VPC_FLOW/', logType: 'vpcflow' },
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

const sigmaValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** A Sigma selection: every key must match (`field|modifier`), a list matches any of its values. */
const selectionSchema = z
  .record(z.string().min(1), z.union([sigmaValue, z.array(sigmaValue).min(1)]))
  .refine((s) => Object.keys(s).length > 0, 'names at least one field');

/**
 * Records not to ship (data events of a noisy bucket, NODATA flow lines): counted by name in
 * asc_records_dropped_total, never sent to a sink or the dead letter.
 */
export const dropFilterSchema = z.strictObject({
  /** The filter's name, the `filter` label of asc_records_dropped_total. */
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ and -, at most 64'),
  logType: z.enum(['cloudtrail', 'vpcflow']),
  /** Raw field names, as the detection rules write them (`eventName`, `requestParameters.bucketName`, `log-status`). */
  match: selectionSchema,
  /** Records the filter must spare even when `match` holds. */
  unless: selectionSchema.optional(),
});
export type DropFilterConfig = z.infer<typeof dropFilterSchema>;

/** How much work is in flight at once; memory is bounded by these numbers, not by input size. */
export const pipelineConfigSchema = z.strictObject({
  /** Objects read, decoded and shipped at once, across all queues. */
  maxInFlightObjects: z.number().int().positive().default(8),
  /**
   * Largest Parquet object read (flow logs delivered as Parquet, Security Lake): the reader needs random
   * access, so one Parquet object at a time is held whole; a larger one is refused (DECODE_PARQUET_TOO_LARGE).
   */
  maxParquetMiB: z.number().int().positive().max(2048).default(128),
  routes: z.array(routeSchema).default(DEFAULT_ROUTES.map((r) => ({ ...r }))),
  /** What to do with keys no route matches: skip them (counted) or choose the decoder from the content. */
  unmatched: z.enum(['skip', 'auto']).default('skip'),
  drop: z
    .array(dropFilterSchema)
    .default([])
    .superRefine((filters, ctx) => {
      const seen = new Set<string>();
      filters.forEach((f, i) => {
        if (seen.has(f.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'is used twice' });
        seen.add(f.name);
        // A modifier the rules do not know, or a value it cannot take, stops the start naming the filter.
        try {
          compileDropFilters([f]);
        } catch (err) {
          ctx.addIssue({ code: 'custom', path: [i], message: (err as Error).message });
        }
      });
    }),
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
