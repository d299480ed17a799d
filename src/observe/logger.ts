import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Paths pino blanks before a line is written. Secrets reach log calls through config objects, HTTP
 * request objects and AWS SDK errors; redacting by key name covers all three without every call site
 * having to remember.
 */
export const REDACT_PATHS = [
  'token',
  'password',
  'secret',
  'apiKey',
  'authorization',
  '*.token',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.authorization',
  '*.*.token',
  '*.*.password',
  '*.*.secret',
  '*.*.apiKey',
  '*.*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-splunk-token"]',
  'req.query.token',
  'config.sinks.hec.token',
  'config.sinks.search.auth',
  'config.webhook.auth',
];

let root: Logger | undefined;

export function createLogger(
  level: LogLevel = 'info',
  destination?: NodeJS.WritableStream,
  options: LoggerOptions = {},
): Logger {
  const opts: LoggerOptions = {
    level,
    base: { name: 'aws-siem-connector' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  };
  // Logs go to stderr so that commands which print data (map, detect) keep stdout clean.
  return pino(opts, destination ?? pino.destination({ fd: 2, sync: true }));
}

/** The process-wide logger; `setLogger` replaces it once the CLI has read --log-level and config. */
export function logger(): Logger {
  root ??= createLogger((process.env.ASC_LOG_LEVEL as LogLevel | undefined) ?? 'info');
  return root;
}

export function setLogger(next: Logger): void {
  root = next;
}
