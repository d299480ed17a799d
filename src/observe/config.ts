import { z } from 'zod';
import { LOG_LEVELS } from './logger.js';

export const observeConfigSchema = z.strictObject({
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Port of /metrics, /healthz and /readyz in long-running mode; 0 turns the server off. */
  metricsPort: z.number().int().min(0).max(65535).default(9464),
  /**
   * Report on the connector itself into the configured SIEM sinks (audit of response actions, alerts
   * received, health samples), for the bundled dashboards. Off: interval 0.
   */
  selfReportIntervalSeconds: z.number().int().min(0).default(60),
});
export type ObserveConfig = z.infer<typeof observeConfigSchema>;
