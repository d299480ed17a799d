import { z } from 'zod';

/** The SQS source: queues that receive S3 object-created notifications. */
export const sqsSourceConfigSchema = z.strictObject({
  queueUrls: z.array(z.url()).min(1),
  /** Messages held at once per process (each may name several objects). */
  maxInFlightMessages: z.number().int().positive().default(20),
  /** Seconds a received message stays invisible; extended at half-time while its work goes on. */
  visibilityTimeout: z.number().int().min(10).max(43_200).default(300),
  /** Long-poll wait; 20 is SQS's maximum and the cheapest. */
  waitTimeSeconds: z.number().int().min(0).max(20).default(20),
  /** On SIGTERM/SIGINT: how long in-flight work may finish before its messages are released. */
  shutdownGraceSeconds: z.number().int().min(0).default(20),
  /** Verify SNS envelope signatures (certificates fetched from SNS over HTTPS). */
  verifySnsSignatures: z.boolean().default(false),
});
export type SqsSourceConfig = z.infer<typeof sqsSourceConfigSchema>;

/**
 * The S3 polling source, for buckets whose notifications cannot be had (a log-archive bucket whose one
 * notification configuration belongs to someone else): each location is listed every interval and the
 * objects not yet read go through the pipeline (as Filebeat's polling mode and the add-on's generic S3
 * input). One poller per location: two would both read every new object.
 */
export const s3PollSourceConfigSchema = z
  .strictObject({
    /** `s3://bucket/prefix` locations, each listed every interval. */
    locations: z.array(z.string().regex(/^s3:\/\/[^/]+(\/.*)?$/, 'expected s3://bucket/prefix')).min(1),
    /**
     * Enter only the date directories (`2026/11/29/`, `year=2026/…`) that can hold objects newer than
     * what was read, instead of listing the location's whole history every round. Off for layouts where
     * a directory named like a year or month is not one.
     */
    datePartitions: z.boolean().default(true),
    /** Seconds from the start of one listing round to the start of the next. */
    intervalSeconds: z.number().int().min(1).max(86_400).default(60),
    /**
     * How long after its last-modified time an object may still first appear in a listing (S3 stamps an
     * object when its upload starts). Keys that recent are remembered one by one; older ones by time alone.
     */
    settleSeconds: z.number().int().min(0).max(86_400).default(900),
    /** Objects last modified before this time are never read; without it, a first start reads from then − settle. */
    since: z.iso.datetime({ offset: true }).optional(),
    /**
     * Where the poller keeps what it has read: a JSON file replaced atomically (default
     * `s3-poll-state.json`; keep it on durable storage), or with `stateS3` an S3 object.
     */
    stateFile: z.string().min(1).optional(),
    /**
     * `s3://bucket/prefix`: the state as the object `s3-poll-state.json` there, written only over the
     * version last read (a second poller on the same state is found out and stopped).
     */
    stateS3: z
      .string()
      .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'expected s3://bucket/prefix')
      .optional(),
    /**
     * An object that cannot be read (access denied, a KMS key refused) is retried every round for this long,
     * then written to the dead letter by reference and passed. Objects whose records a sink has not taken
     * yet are retried for as long as it takes.
     */
    giveUpAfterHours: z.number().positive().default(24),
    /** On SIGTERM/SIGINT: how long objects being read may finish before the poller stops without them. */
    shutdownGraceSeconds: z.number().int().min(0).default(20),
  })
  .refine((p) => !(p.stateFile && p.stateS3), {
    message: 'set source.s3Poll.stateFile or source.s3Poll.stateS3, not both',
    path: ['stateS3'],
  });
export type S3PollSourceConfig = z.infer<typeof s3PollSourceConfigSchema>;

/**
 * A role the source assumes to read queues and objects, typically a log-archive account's (as Filebeat's
 * `role_arn` and Vector's `assume_role`). Only the source uses it: the dead letter, the responders and
 * the secrets keep the connector's own credentials.
 */
export const sourceRoleConfigSchema = z.strictObject({
  roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'expected an IAM role ARN'),
  /** The external id the role's trust policy requires, if it requires one. */
  externalId: z.string().min(2).max(1224).optional(),
  /** Shows in the role's CloudTrail records as the session that read the logs. */
  sessionName: z
    .string()
    .regex(/^[\w+=,.@-]{2,64}$/)
    .default('aws-siem-connector'),
});
export type SourceRoleConfig = z.infer<typeof sourceRoleConfigSchema>;
