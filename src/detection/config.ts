import { z } from 'zod';

/** In-stream detection: which rules run inside the pipeline. */
export const detectionConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  rulesDir: z.string().min(1).default('rules'),
  /** In-stream alerts are appended here as NDJSON (one alert per line, as `detect` prints them). */
  alertsFile: z.string().min(1).default('out/alerts.ndjson'),
});
export type DetectionConfig = z.infer<typeof detectionConfigSchema>;
