import type { Command } from 'commander';
import type { ConnectorConfig } from '../config/index.js';
import { ConnectorError, errorMessage } from '../errors.js';
import { createProgress, type Logger, metrics } from '../observe/index.js';
import { buildPipeline } from '../pipeline/build.js';
import { AlertsWriteError, createInStreamDetection } from '../pipeline/detect.js';
import { type ReplayProgress, replay } from '../pipeline/replay.js';
import { compileRoutes } from '../pipeline/routes.js';
import { commandContext } from './context.js';

export interface ReplayCommandOptions {
  from: string;
  since?: string;
  until?: string;
  config?: string;
}

export async function replayCommand(command: Command, options: ReplayCommandOptions): Promise<void> {
  const { config, log } = commandContext(command, options.config);
  await replayCommandWith(config, log, {
    from: options.from,
    since: parseTime(options.since, '--since'),
    until: parseTime(options.until, '--until'),
  });
}

/** Backfills through the same pipeline as the consumer, with a progress line and a summary at the end. */
export async function replayCommandWith(
  config: ConnectorConfig,
  log: Logger,
  options: { from: string; since?: Date | undefined; until?: Date | undefined; demo?: boolean },
): Promise<ReplayProgress> {
  const detection = await createInStreamDetection(config.detection, {
    log,
    metrics: metrics(),
    alertsFile: config.detection.alertsFile,
  });
  const pipeline = await buildPipeline(config, { log, metrics: metrics(), observe: detection?.observe });
  const progress = createProgress();
  // Totals are unknown (shown as such) until the listing is done: the objects replay while it goes on.
  const view = (p: ReplayProgress) => ({
    done: p.objects,
    total: p.listing ? 0 : p.totalObjects,
    unit: 'objects',
    bytes: p.bytes,
    totalBytes: p.listing ? 0 : p.totalBytes,
    extra: `${p.listing ? `${p.totalObjects} listed so far · ` : ''}${p.records} records${p.deadLettered ? ` · ${p.deadLettered} dead-lettered` : ''}${p.failed ? ` · ${p.failed} failed` : ''}`,
    startedAt: p.startedAt,
  });
  let result: ReplayProgress;
  try {
    try {
      result = await replay(pipeline, {
        from: options.from,
        since: options.since,
        until: options.until,
        concurrency: config.pipeline.maxInFlightObjects,
        // A replay of a directory that does not follow AWS's key layout still works: the content decides.
        route: compileRoutes({ ...config.pipeline, unmatched: 'auto' }),
        onProgress: (p) => progress.update(view(p)),
      });
    } finally {
      await pipeline.close();
    }
  } catch (err) {
    // The records replayed before the failure went out and through detection: the correlation windows
    // they opened are closed and their alerts written as at the end of a whole replay. The replay's error
    // is the one reported; alerts that could not be written are told beside it.
    await detection?.finish().catch((lost: unknown) => {
      log.error(
        { alertsFile: config.detection.alertsFile, err: errorMessage(lost) },
        'in-stream alerts were lost',
      );
    });
    throw err;
  }
  // Alerts the file could not take are an error of the replay, told after its summary, not instead of
  // it: the records went out all the same (run's stop treats them alike).
  let alerts = 0;
  let alertsLost: unknown;
  try {
    alerts = (await detection?.finish()) ?? 0;
  } catch (err) {
    alerts = detection?.alerts ?? 0;
    alertsLost = err;
  }
  progress.finish(view(result));
  const summary = {
    objects: result.totalObjects,
    records: result.records,
    deadLettered: result.deadLettered,
    failed: result.failed,
    skipped: result.skipped,
    alerts,
    ...(detection ? { alertsFile: config.detection.alertsFile } : {}),
    ...(alertsLost instanceof AlertsWriteError ? { alertsUnwritten: alertsLost.details.lost } : {}),
    sinks: pipeline.sinks.map((s) => s.name),
    ...(config.sinks.file ? { output: config.sinks.file.dir } : {}),
    deadLetterDir: config.deadLetter.s3 ?? config.deadLetter.dir,
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  if (alertsLost !== undefined) {
    log.error(
      { alertsFile: config.detection.alertsFile, err: errorMessage(alertsLost) },
      'in-stream alerts were lost',
    );
    process.exitCode = 1;
  }
  if (result.failed > 0)
    throw new ConnectorError('REPLAY_INCOMPLETE', `${result.failed} object(s) could not be delivered`);
  if (result.deadLettered > 0) process.exitCode = 1;
  return result;
}

function parseTime(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new ConnectorError('USAGE', `${flag} must be an ISO 8601 time, got ${value}`);
  return date;
}
