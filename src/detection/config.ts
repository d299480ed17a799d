import { z } from 'zod';

/** In-stream detection: which rules run inside the pipeline. */
export const detectionConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  rulesDir: z.string().min(1).default('rules'),
  /** In-stream alerts are appended here as NDJSON (one alert per line, as `detect` prints them). */
  alertsFile: z.string().min(1).default('out/alerts.ndjson'),
  /**
   * Correlation state is bounded by these, not by the traffic: groups held at once per rule (the least
   * recently fed without an open alert is dropped first), and events held in one rule's windows (past it,
   * the least recently fed group gives up its oldest event). About 150 bytes per event.
   */
  maxGroups: z.number().int().positive().default(100_000),
  maxWindowEvents: z.number().int().positive().default(100_000),
});
export type DetectionConfig = z.infer<typeof detectionConfigSchema>;
