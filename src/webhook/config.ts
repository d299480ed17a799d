import { z } from 'zod';
import { ACTION_NAMES } from '../respond/config.js';

/**
 * One policy entry: alerts from rules matching `match` (by name or by tag) trigger `action` on the values
 * found at `targets` (dotted field paths, looked up in each alert row, e.g. `source.ip`, `user.name`).
 */
export const policyEntrySchema = z
  .strictObject({
    name: z.string().min(1).optional(),
    match: z
      .strictObject({
        rules: z.array(z.string().min(1)).default([]),
        tags: z.array(z.string().min(1)).default([]),
      })
      .refine((m) => m.rules.length > 0 || m.tags.length > 0, 'match needs at least one rule name or tag'),
    action: z.enum(ACTION_NAMES),
    targets: z.array(z.string().min(1)).min(1),
    /** WAF blocks only: overrides respond.waf.ttlSeconds. */
    ttlSeconds: z.number().int().min(0).optional(),
  })
  .readonly();
export type PolicyEntry = z.infer<typeof policyEntrySchema>;

/** The alert receiver. Secrets come from env (ASC_WEBHOOK_TOKEN, ASC_WEBHOOK_HMAC_SECRET) or files. */
export const webhookConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8787),
  /** Shared token for /alerts/splunk (?token=) and /alerts/kibana (Authorization: Bearer). */
  token: z.string().min(16, 'webhook token must be at least 16 characters').optional(),
  tokenFile: z.string().min(1).optional(),
  /** Key for /alerts/generic: HMAC-SHA256 over `timestamp.body`. */
  hmacSecret: z.string().min(16, 'webhook HMAC secret must be at least 16 characters').optional(),
  hmacSecretFile: z.string().min(1).optional(),
  /**
   * Signed requests older than this are refused, and so are those stamped more than 30 s (or this, if
   * less) ahead; each signed request is accepted once while its timestamp is.
   */
  replayWindowSeconds: z.number().int().min(1).max(3600).default(300),
  bodyLimit: z.number().int().min(1024).default(1_048_576),
  /** Per client address. */
  rateLimit: z
    .strictObject({
      max: z.number().int().min(1).default(120),
      windowSeconds: z.number().int().min(1).default(60),
    })
    .prefault({}),
  /** Cap on distinct targets acted on per alert, so one noisy alert cannot fan out without bound. */
  maxTargetsPerAlert: z.number().int().min(1).default(20),
  /** Optional: fetch every result row of a Splunk alert by sid (the webhook body carries only the first). */
  splunk: z
    .strictObject({
      restUrl: z.url(),
      token: z.string().min(1).optional(),
      tokenFile: z.string().min(1).optional(),
      maxResults: z.number().int().min(1).max(10_000).default(100),
      timeoutMs: z.number().int().min(100).default(10_000),
    })
    .optional(),
  policy: z.array(policyEntrySchema).default([]),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
