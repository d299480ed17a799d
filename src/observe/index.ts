export {
  createLogger,
  LOG_LEVELS,
  type Logger,
  type LogLevel,
  logger,
  REDACT_PATHS,
  setLogger,
} from './logger.js';
