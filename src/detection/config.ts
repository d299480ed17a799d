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
  /**
   * "detection fired" log lines per second at most (a second's worth may come at once); alerts past it are
   * summed per rule into one line a second. A storm of alerts (a port scan, a flood of denied calls) would
   * otherwise flood the log with what the alerts file and `asc_alerts_total` hold anyway. Every alert is
   * logged while the alerts file cannot be written or its backlog is full. 0: every alert is logged.
   */
  alertLogLinesPerSecond: z.number().int().min(0).default(100),
});
export type DetectionConfig = z.infer<typeof detectionConfigSchema>;
