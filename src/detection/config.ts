import { z } from 'zod';

/** In-stream detection: which rules run inside the pipeline. */
export const detectionConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  rulesDir: z.string().min(1).default('rules'),
});
export type DetectionConfig = z.infer<typeof detectionConfigSchema>;
