import { z } from 'zod';

/**
 * Where AWS calls go. `endpoint` points every client at one endpoint (a local emulator in tests and in
 * the embedded demo); on real AWS leave it out and the SDK's own resolution applies.
 */
export const awsConfigSchema = z.strictObject({
  region: z.string().min(1).default('us-east-1'),
  endpoint: z.url().optional(),
  /** S3 path-style addressing; needed by most S3-compatible endpoints. */
  forcePathStyle: z.boolean().default(false),
});
export type AwsConfig = z.infer<typeof awsConfigSchema>;

/** An AWS account id, as the keys of per-account settings (indexes, namespaces, names) are written. */
export const awsAccountIdSchema = z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id');
