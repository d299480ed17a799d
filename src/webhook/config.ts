import { z } from 'zod';

/** The alert receiver. Secrets come from env or files; see the webhook module. */
export const webhookConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8787),
  token: z.string().min(1).optional(),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
