import type { Logger } from 'pino';
import type { RespondConfig, ResponseRunner } from '../respond/index.js';

/**
 * Starts the timer that removes expired WAF blocks and compacts the action store (records finished longer
 * than `respond.stateRetentionDays` ago), and returns what stops it. In dry-run it starts nothing: the
 * timer's sweep applies, and a dry-run receiver sweeping would still edit the IP sets that earlier live
 * runs filled and delete records from the store.
 */
export function startSweeper(
  runner: Pick<ResponseRunner, 'sweep'>,
  respond: Pick<RespondConfig, 'dryRun' | 'sweepIntervalSeconds'>,
  log: Pick<Logger, 'info' | 'error'>,
): () => void {
  if (respond.sweepIntervalSeconds <= 0) return () => {};
  if (respond.dryRun) {
    log.info(
      'TTL sweeper not started: dry run changes nothing in AWS, so expired WAF blocks stay until `respond sweep`',
    );
    return () => {};
  }
  const timer = setInterval(() => {
    runner.sweep().catch((err: unknown) => log.error({ err }, 'TTL sweep failed'));
  }, respond.sweepIntervalSeconds * 1000);
  return () => clearInterval(timer);
}
