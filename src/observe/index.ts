export { createEmfEmitter, EMF_NAMESPACE, type EmfEmitter, emfMetricName } from './emf.js';
export {
  createLogger,
  LOG_LEVELS,
  type Logger,
  type LogLevel,
  logger,
  maskToken,
  REDACTED,
  redactSecrets,
  setLogger,
} from './logger.js';
export { createMetrics, type Metrics, metrics } from './metrics.js';
export { createProgress, formatBytes, formatProgress, type ProgressState } from './progress.js';
export {
  alertDocument,
  auditDocument,
  createSelfReporter,
  healthDocuments,
  hecReportTarget,
  type ReportTarget,
  SelfReporter,
  searchReportTarget,
} from './self-report.js';
export { type ReadinessCheck, startObserveServer } from './server.js';
