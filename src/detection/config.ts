import { z } from 'zod';
import { CORRELATION_DEFAULTS } from './correlate.js';

/** In-stream detection: which rules run inside the pipeline. */
export const detectionConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  rulesDir: z.string().min(1).default('rules'),
  /** In-stream alerts are appended here as NDJSON (one alert per line, as `detect` prints them). */
  alertsFile: z.string().min(1).default('out/alerts.ndjson'),
  /**
   * Correlation state is bounded by these, per correlation rule, not by the traffic: groups held at once
   * (the least recently fed without an open alert is dropped first; groups a whole timespan behind the
   * newest event are dropped anyway), and events held in the rule's windows (past it, the least recently
   * fed group gives up its oldest event). About 1 KB per group and 250 bytes per event.
   */
  maxGroups: z.number().int().positive().default(CORRELATION_DEFAULTS.maxGroups),
  maxWindowEvents: z.number().int().positive().default(CORRELATION_DEFAULTS.maxWindowEvents),
});
export type DetectionConfig = z.infer<typeof detectionConfigSchema>;
