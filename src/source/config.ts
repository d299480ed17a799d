import { z } from 'zod';

/** The SQS source: queues that receive S3 object-created notifications. */
export const sqsSourceConfigSchema = z.strictObject({
  queueUrls: z.array(z.url()).min(1),
});
export type SqsSourceConfig = z.infer<typeof sqsSourceConfigSchema>;
