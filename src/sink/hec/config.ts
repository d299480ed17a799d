import { z } from 'zod';
import { awsAccountIdSchema } from '../../config/aws.js';
import { SPLUNK_INDEX_NAME } from '../../splunk-index.js';
import { sinkLogTypesSchema } from '../log-types.js';
import { tlsConfigSchema } from '../tls.js';

const splunkIndex = z
  .string()
  .regex(
    SPLUNK_INDEX_NAME,
    'must be a Splunk index name: lower-case letters, digits, _ and -, not first _ or -',
  );

/**
 * Splunk HEC sink settings. Owned by the HEC sink; the root schema only composes it.
 *
 * Defaults follow what Splunk's own high-throughput clients settled on: ~1 MB batches flushed at least
 * every 5 s, gzip on (HEC accepts gzip, never deflate), indexer-ack polling every few seconds with a 300 s
 * time-out (acks can lag minutes behind the 200), and TLS verification always on unless turned off by hand.
 */
export const hecSinkConfigSchema = z
  .strictObject({
    /** One or more HEC base URLs (`https://splunk:8088`); the sink spreads batches over the healthy ones. */
    urls: z.array(z.url()).min(1),
    /** The HEC token. Prefer `tokenFile` or ASC_HEC_TOKEN; it is never logged. */
    token: z.string().min(1).optional(),
    /** A file whose trimmed content is the token (a mounted secret). */
    tokenFile: z.string().min(1).optional(),
    /** Index for events that carry none; must be in the token's allowed indexes. */
    index: splunkIndex.optional(),
    /** Index per log type, over `index` (Splunk admins keep trails and flows apart, as the add-on's inputs do). */
    indexes: z
      .strictObject({ cloudtrail: splunkIndex.optional(), vpcflow: splunkIndex.optional() })
      .prefault({}),
    /**
     * Index per AWS account (the account whose log it is: a trail's recipient, a flow's owner), over
     * `indexes` and `index`: Splunk grants access by index, so each team or tenant sees its own accounts.
     */
    accountIndexes: z.record(awsAccountIdSchema, splunkIndex).optional(),
    /** Host for events that carry none. */
    host: z.string().min(1).optional(),
    /** Replaces the source of every event (default: the object's s3://bucket/key). */
    source: z.string().min(1).optional(),
    /** Renames the sourcetypes, for stacks that installed the add-on's types under other names. */
    sourcetypes: z
      .strictObject({
        cloudtrail: z.string().min(1).optional(),
        vpcflow: z.string().min(1).optional(),
      })
      .prefault({}),
    batch: z
      .strictObject({
        /** Uncompressed bytes per request; the compressed body is always smaller. */
        maxBytes: z.number().int().min(1024).default(1_000_000),
        maxEvents: z.number().int().positive().default(10_000),
        /** A partly filled batch is sent after this long. */
        maxAgeMs: z.number().int().positive().default(5_000),
        /**
         * When no object is being decoded, nothing more will join the batch soon: it is sent once it is
         * this old instead. 0 (at once) measured best: objects wait for their batch in bounded slots, so
         * any wait here also holds back the next objects (one in flight: 386 rec/s at 0, 69 at 100 ms).
         * Raise it for fewer, larger requests when small objects trickle in.
         */
        idleAgeMs: z.number().int().min(0).default(0),
      })
      .prefault({}),
    /** HEC fails the whole request when one event is over ~5 MB, so larger events are rejected up front. */
    maxEventBytes: z.number().int().positive().default(5_000_000),
    logTypes: sinkLogTypesSchema,
    gzip: z.boolean().default(true),
    /**
     * Send the CIM fields as indexed fields (`fields`), so stacks without the Splunk Add-on for AWS fill
     * the CIM data models. With the add-on installed, `false` leaves all normalisation to it: its lookups
     * only fill fields an event does not already have.
     */
    indexedFields: z.boolean().default(true),
    /**
     * zlib level 1-9: lower costs less CPU per event, higher less egress. 3 is the last of zlib's fast
     * levels: on CloudTrail envelopes it compresses 8.1× at about 5 ms per MB, where 4 (the first lazy
     * level) gains 6 % for 50 % more CPU.
     */
    gzipLevel: z.number().int().min(1).max(9).default(3),
    /**
     * Requests in flight at once at most, over all URLs; each is one keep-alive connection with its own
     * channel. With adaptive concurrency (the default) this is the ceiling the limit may grow to.
     */
    maxInFlight: z.number().int().min(1).max(64).default(16),
    /**
     * Adaptive request concurrency: the limit starts at `initial`, grows by one request each round-trip
     * time in which the receiver kept up with it, and is cut by `decreaseRatio` when the receiver pushes
     * back (503/429, busy or unhealthy HEC codes, network errors, time-outs) or its round-trip time rises
     * clearly above the moving average (requests queue there before it refuses them). One limit covers all
     * URLs. With `enabled: false` the sink always keeps `maxInFlight` requests in flight.
     */
    adaptiveConcurrency: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Limit at start; raise it to skip the first seconds of ramp-up after each start. */
        initial: z.number().int().min(1).default(1),
        /** The limit is multiplied by this (rounded down, never below 1) when the receiver pushes back. */
        decreaseRatio: z.number().gt(0).lt(1).default(0.5),
        /**
         * How many standard deviations above its moving average the round-trip time may rise before the
         * sink reads it as queueing at the receiver; larger values tolerate receivers with jumpy latency.
         */
        rttDeviationThreshold: z.number().min(0).default(2.5),
      })
      .prefault({}),
    /** Sent batches that may wait for an indexer ack before `write` applies back-pressure. */
    maxPendingBatches: z.number().int().min(1).default(32),
    requestTimeoutMs: z.number().int().positive().default(30_000),
    ack: z
      .strictObject({
        enabled: z.boolean().default(false),
        /** First poll after a send; doubles while nothing new is acked, up to `maxPollIntervalMs`. */
        pollIntervalMs: z.number().int().positive().default(1_000),
        maxPollIntervalMs: z.number().int().positive().default(10_000),
        /** A batch not acked within this is sent again (a counted resend). */
        timeoutMs: z.number().int().positive().default(300_000),
      })
      .prefault({}),
    tls: tlsConfigSchema,
    retry: z
      .strictObject({
        initialDelayMs: z.number().int().positive().default(250),
        /** Longest single wait, a Retry-After header included (a proxy's `Retry-After: 900` is cut to this). */
        maxDelayMs: z.number().int().positive().default(30_000),
        /**
         * How long one batch keeps being retried, or waits for a healthy endpoint, before its records are
         * failed (not dropped): the source then leaves the SQS message for redelivery.
         */
        windowMs: z.number().int().positive().default(600_000),
      })
      .prefault({}),
    /**
     * After a failed send, an endpoint gets no batch until /services/collector/health answers healthy (or
     * with a status that cannot tell, such as a proxy's 404); while it does not, it is probed at this interval.
     */
    healthCheckIntervalMs: z.number().int().positive().default(5_000),
    /** After a configuration error (bad token, index, ack mode) batches fail fast for this long, then retry. */
    blockedRetryMs: z.number().int().positive().default(60_000),
  })
  .refine((c) => (c.token === undefined) !== (c.tokenFile === undefined), {
    message: 'set exactly one of token (or ASC_HEC_TOKEN) and tokenFile (or ASC_HEC_TOKEN_FILE)',
    path: ['token'],
  })
  .refine((c) => c.adaptiveConcurrency.initial <= c.maxInFlight, {
    message: 'adaptiveConcurrency.initial must not exceed maxInFlight, the ceiling of the limit',
    path: ['adaptiveConcurrency', 'initial'],
  });
export type HecSinkConfig = z.infer<typeof hecSinkConfigSchema>;
export type HecSinkConfigInput = z.input<typeof hecSinkConfigSchema>;
