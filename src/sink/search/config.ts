import { z } from 'zod';
import { awsAccountIdSchema } from '../../config/aws.js';
import { sinkLogTypesSchema } from '../log-types.js';
import { tlsConfigSchema } from '../tls.js';
import { indexPatternProblem } from './index-name.js';

const sigv4Schema = z.strictObject({
  region: z.string().min(1),
  /** `es` for Amazon OpenSearch Service domains, `aoss` for OpenSearch Serverless collections. */
  service: z.enum(['es', 'aoss']).default('es'),
});

/**
 * One authentication method at most. Secrets come from the environment (see env.ts) or from `*File` keys
 * (a mounted secret), so they never have to sit in the config file itself.
 */
const authSchema = z
  .strictObject({
    apiKey: z.string().min(1).optional(),
    apiKeyFile: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
    sigv4: sigv4Schema.optional(),
  })
  .superRefine((auth, ctx) => {
    const methods = [
      auth.apiKey !== undefined || auth.apiKeyFile !== undefined ? 'apiKey' : undefined,
      auth.username !== undefined || auth.password !== undefined || auth.passwordFile !== undefined
        ? 'basic'
        : undefined,
      auth.sigv4 ? 'sigv4' : undefined,
    ].filter(Boolean);
    if (methods.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `choose one authentication method, not ${methods.join(' and ')}`,
      });
    }
    if (auth.apiKey !== undefined && auth.apiKeyFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['apiKeyFile'], message: 'give apiKey or apiKeyFile, not both' });
    }
    if (auth.password !== undefined && auth.passwordFile !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['passwordFile'],
        message: 'give password or passwordFile, not both',
      });
    }
    if (methods.includes('basic') && auth.username === undefined) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'basic authentication needs a username' });
    }
    if (auth.username !== undefined && auth.password === undefined && auth.passwordFile === undefined) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'basic authentication needs a password' });
    }
  });

/** A data stream namespace, as Elastic allows it. */
const namespaceSchema = z
  .string()
  .regex(/^[a-z0-9_.]+$/, 'lower-case letters, digits, _ and . only')
  .max(100);

const targetSchema = z.discriminatedUnion('mode', [
  z.strictObject({
    /** Elastic's integration layout: `logs-aws.cloudtrail-<namespace>`, `logs-aws.vpcflow-<namespace>`. */
    mode: z.literal('datastream'),
    namespace: namespaceSchema.default('default'),
    /**
     * Namespace per AWS account (the account whose log it is: a trail's recipient, a flow's owner), over
     * `namespace`: Elastic grants access by data stream, so each team or tenant sees its own accounts.
     */
    accountNamespaces: z.record(awsAccountIdSchema, namespaceSchema).optional(),
  }),
  z.strictObject({
    mode: z.literal('index'),
    /**
     * `{logType}`, `{account}` (the AWS account whose log it is; `unknown` when none can be told) and
     * `{yyyy}`, `{MM}`, `{dd}`, `{yyyy.MM.dd}`, `{yyyy-MM-dd}` (UTC, from the document's @timestamp). Checked here against the server's index name rules, so a bad pattern stops the start
     * instead of failing every record.
     */
    pattern: z
      .string()
      .min(1)
      .superRefine((p, ctx) => {
        const problem = indexPatternProblem(p);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .refine((p) => p.includes('{logType}'), 'must contain {logType} so each log type has its own mapping')
      .default('aws-{logType}-{yyyy.MM.dd}'),
    /** `create` keeps resends idempotent (409 = already there); `index` overwrites. */
    op: z.enum(['create', 'index']).default('create'),
  }),
]);

const retrySchema = z.strictObject({
  initialDelayMs: z.number().int().min(1).default(200),
  maxDelayMs: z.number().int().min(1).default(30_000),
  /** After this long without success a record is failed (left for SQS redelivery), never dropped. */
  maxElapsedMs: z.number().int().min(0).default(300_000),
});

const lifecycleSchema = z.strictObject({
  /**
   * Delete data stream backing indices this many days after their rollover; in index mode, plain indices
   * this many days after their creation (they have no rollover alias, so the policy has no rollover).
   */
  deleteAfterDays: z.number().int().min(1),
  /** Data streams only: roll over the write index at this age (ILM / ISM syntax, e.g. `1d`). */
  rolloverMaxAge: z
    .string()
    .regex(/^\d+[dhm]$/)
    .default('1d'),
  /** Data streams only: roll over the write index at this primary shard size. */
  rolloverMaxPrimarySize: z
    .string()
    .regex(/^\d+(gb|mb)$/)
    .default('50gb'),
});

const setupSchema = z.strictObject({
  /** Install or update templates when the sink starts; turn off where the connector lacks the privilege. */
  auto: z.boolean().default(true),
  /** Name prefix of the templates this connector owns. */
  templatePrefix: z
    .string()
    .regex(/^[a-z0-9_-]+$/)
    .default('aws-siem-connector'),
  /** Above the 100/200 of built-in `logs-*-*` and Elastic's own integration templates. */
  priority: z.number().int().min(0).default(250),
  shards: z.number().int().min(1).default(1),
  replicas: z.number().int().min(0).optional(),
  /** Optional retention: ILM on Elasticsearch, ISM on OpenSearch. */
  lifecycle: lifecycleSchema.optional(),
});

/** Elasticsearch / OpenSearch sink settings. Owned by the search sink; the root schema only composes it. */
export const searchSinkConfigSchema = z
  .strictObject({
    flavour: z.enum(['elasticsearch', 'opensearch']),
    /** One URL or several; the client balances across them. */
    node: z.union([z.url(), z.array(z.url()).min(1)]).optional(),
    /** Elastic Cloud deployment id (Elasticsearch only), instead of node. */
    cloudId: z.string().min(1).optional(),
    auth: authSchema.optional(),
    tls: tlsConfigSchema,
    target: targetSchema.prefault({ mode: 'datastream' }),
    /** Flush a bulk request at this many bytes of NDJSON (the Elasticsearch bulk helper uses 5 MB). */
    flushBytes: z
      .number()
      .int()
      .min(1024)
      .max(100 * 1024 * 1024)
      .default(5_000_000),
    flushCount: z.number().int().min(1).default(10_000),
    logTypes: sinkLogTypesSchema,
    /** Flush a partial request after this long, so a quiet stream still arrives promptly. */
    flushIntervalMs: z.number().int().min(1).default(1_000),
    /**
     * When no object is being decoded, nothing more will join the request soon: it is sent once its first
     * document is this old instead; 0 (at once) keeps latency and throughput best (see the HEC sink's
     * `batch.idleAgeMs`). Raise it for fewer, larger requests when small objects trickle in.
     */
    idleFlushMs: z.number().int().min(0).default(0),
    /** Bulk requests in flight at once. */
    concurrency: z.number().int().min(1).max(64).default(4),
    /**
     * Bytes held (buffered plus in flight) before write() waits; bounds memory by config, not input.
     * Defaults to flushBytes × (concurrency + 1).
     */
    maxBufferedBytes: z.number().int().min(1024).optional(),
    requestTimeoutMs: z.number().int().min(1).default(60_000),
    compression: z.boolean().default(false),
    retry: retrySchema.prefault({}),
    setup: setupSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    if ((cfg.node === undefined) === (cfg.cloudId === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['node'], message: 'give node (one URL or a list) or cloudId' });
    }
    if (cfg.cloudId !== undefined && cfg.flavour !== 'elasticsearch') {
      ctx.addIssue({ code: 'custom', path: ['cloudId'], message: 'cloudId is for flavour elasticsearch' });
    }
    if (cfg.auth?.sigv4 && cfg.flavour !== 'opensearch') {
      ctx.addIssue({
        code: 'custom',
        path: ['auth', 'sigv4'],
        message: 'sigv4 is for flavour opensearch (Amazon OpenSearch Service and Serverless)',
      });
    }
  });

export type SearchSinkConfig = z.infer<typeof searchSinkConfigSchema>;
export type SearchSinkConfigInput = z.input<typeof searchSinkConfigSchema>;
export type SearchTarget = SearchSinkConfig['target'];
