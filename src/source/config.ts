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
