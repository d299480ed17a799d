import { z } from 'zod';

/** Response actions. Every action is dry-run until enabled here. */
export const respondConfigSchema = z.strictObject({
  auditLog: z.string().min(1).default('audit/actions.jsonl'),
});
export type RespondConfig = z.infer<typeof respondConfigSchema>;
