import type { Logger } from 'pino';
import type { RespondConfig, ResponseRunner } from '../respond/index.js';

/**
 * Starts the timer that removes expired WAF blocks, and returns what stops it. In dry-run it starts
 * nothing: removing a block changes AWS, and `ResponseRunner.sweep()` always applies (it has no plan
 * mode), so a dry-run receiver sweeping would still edit the IP sets that earlier live runs filled.
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
