import { fileURLToPath } from 'node:url';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import PQueue from 'p-queue';
import { ConfigError, type ConnectorConfig, validateConfig } from '../config/index.js';
import { ConnectorError, errorMessage } from '../errors.js';
import {
  createSelfReporter,
  type Logger,
  metrics,
  type ReadinessCheck,
  startObserveServer,
} from '../observe/index.js';
import { buildPipeline, type RunningPipeline, s3Client } from '../pipeline/build.js';
import { createInStreamDetection, type InStreamDetection } from '../pipeline/detect.js';
import { compileRoutes } from '../pipeline/routes.js';
import { pipelineConsumer } from '../source/consumer.js';
import { S3Poller } from '../source/poll.js';
import { DEFAULT_POLL_STATE_FILE, fileStateStore, s3StateStore } from '../source/poll-state.js';
import type { SqsConsumer } from '../source/sqs.js';
import { withTimeout } from '../timeout.js';
import { commandContext } from './context.js';
import { replayCommandWith } from './replay.js';

/** The sample objects shipped with the package, replayed by the embedded demo. */
export const SAMPLES_DIR = fileURLToPath(new URL('../../samples/', import.meta.url));

/**
 * The long-running consumer. With no queue configured it runs the embedded demo instead: the shipped
 * samples through decode, map and detection into ./out, so a first run needs no AWS account and no SIEM.
 */
export async function runCommand(command: Command, options: { config?: string }): Promise<void> {
  const { config, log } = commandContext(command, options.config);
  if (!config.source.sqs && !config.source.s3Poll) {
    log.info(
      'no source configured (source.sqs.queueUrls, source.s3Poll.locations): running the embedded demo over the bundled samples',
    );
    await replayCommandWith(demoConfig(config), log, { from: SAMPLES_DIR, demo: true });
    return;
  }

  // Listening before starting: a stop requested while the consumer starts (or just as it says it has)
  // is then honoured once it runs, instead of killing the process outright (no listener: the signal's
  // default action).
  const stop = stopRequested();
  const running = await startConsumer(config, log);
  await running.stop(await stop);
}

export interface RunningConsumer {
  /** Stops receiving, finishes in-flight work within the grace period, drains the sinks and closes all. */
  stop(signal: NodeJS.Signals): Promise<void>;
}

/**
 * Starts everything `run` needs, in order: detection, pipeline (sinks, dead letter), the metrics server,
 * the self-reporter, the consumer. When a step fails (a wrong queue URL, no permission, the endpoint
 * down), what was started before it is closed again and the error rethrown: the metrics server alone
 * would keep the process alive, answering /healthz 200 for a consumer that never started.
 */
export async function startConsumer(config: ConnectorConfig, log: Logger): Promise<RunningConsumer> {
  const { sqs: sqsConfig, s3Poll: pollConfig } = config.source;
  if (!sqsConfig && !pollConfig)
    throw new ConfigError('no source configured (source.sqs.queueUrls or source.s3Poll.locations)', {
      key: 'source',
    });
  /** What was started so far, closed in reverse order if a later step fails. */
  const started: { name: string; close: () => Promise<unknown> }[] = [];
  const graceSeconds = Math.max(sqsConfig?.shutdownGraceSeconds ?? 0, pollConfig?.shutdownGraceSeconds ?? 0);
  try {
    const m = metrics();
    const detection = await createInStreamDetection(config.detection, {
      log,
      metrics: m,
      alertsFile: config.detection.alertsFile,
    });
    if (detection) started.push({ name: 'detection', close: () => detection.finish() });
    const pipeline = await buildPipeline(config, { log, metrics: m, observe: detection?.observe });
    started.push({
      name: 'pipeline',
      close: async () => {
        await pipeline.close();
        pipeline.s3Clients.destroy();
      },
    });
    const sources = runSources(config, pipeline, { log, metrics: m });
    started.push({ name: 'source clients', close: async () => sources.destroy() });

    const checks: ReadinessCheck[] = [
      ...sources.checks,
      ...pipeline.sinks.flatMap((sink) =>
        sink.check ? [{ name: `sink:${sink.name}`, check: () => sink.check!() }] : [],
      ),
    ];
    const observe =
      config.observe.metricsPort > 0
        ? await startObserveServer({ port: config.observe.metricsPort, metrics: m, checks })
        : undefined;
    if (observe) started.push({ name: 'metrics server', close: () => observe.close() });

    const reporter = await createSelfReporter(config, {
      metrics: m,
      log,
      sinks: pipeline.sinks.map((s) => s.name),
    });
    if (reporter) started.push({ name: 'self-reporter', close: () => reporter.close() });

    started.push({ name: 'sources', close: () => sources.stop() });
    await sources.start();
    log.info(
      {
        ...(sqsConfig ? { queues: sqsConfig.queueUrls.length } : {}),
        ...(pollConfig ? { polledLocations: pollConfig.locations.length } : {}),
        sinks: pipeline.sinks.map((s) => s.name),
        metricsPort: observe?.port,
      },
      'consumer started',
    );
    return {
      stop: (signal) =>
        stopConsumer({ signal, log, graceSeconds, sources, pipeline, detection, reporter, observe }),
    };
  } catch (err) {
    await closeStarted(started, log, graceSeconds);
    if (err instanceof ConnectorError) throw err;
    throw new ConnectorError('RUN_START_FAILED', `the consumer could not start: ${errorMessage(err)}`, {
      cause: err,
    });
  }
}

/** The configured sources as one: SQS notifications, S3 polling, or both. */
interface RunSources {
  start(): Promise<void>;
  /** Stops taking new work and lets what is in flight finish within each source's grace period. */
  stop(): Promise<void>;
  readonly inFlight: number;
  checks: ReadinessCheck[];
  /** Releases the sources' own clients, once stopped. */
  destroy(): void;
}

function runSources(
  config: ConnectorConfig,
  pipeline: RunningPipeline,
  deps: { log: Logger; metrics: ReturnType<typeof metrics> },
): RunSources {
  let consumer: SqsConsumer | undefined;
  let sqsClientsOf: { destroy(): void } | undefined;
  const checks: ReadinessCheck[] = [];
  // One bound on objects in flight, whichever source names them.
  const objects = new PQueue({ concurrency: config.pipeline.maxInFlightObjects });
  const sqsConfig = config.source.sqs;
  if (sqsConfig) {
    const built = pipelineConsumer(config, pipeline, { ...deps, objects });
    consumer = built.consumer;
    sqsClientsOf = built.sqs;
    checks.push(
      ...sqsConfig.queueUrls.map((queueUrl) => ({
        name: `sqs:${queueUrl.slice(queueUrl.lastIndexOf('/') + 1)}`,
        check: async () => {
          await built.sqs
            .forQueue(queueUrl)
            .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
        },
      })),
    );
  }
  const pollConfig = config.source.s3Poll;
  // The state is the connector's own, like the dead letter: its credentials, not the source role's.
  const stateS3 = pollConfig?.stateS3 ? s3Client(config.aws) : undefined;
  const poller = pollConfig
    ? new S3Poller({
        config: pollConfig,
        store:
          stateS3 && pollConfig.stateS3
            ? s3StateStore(stateS3, pollConfig.stateS3)
            : fileStateStore(pollConfig.stateFile ?? DEFAULT_POLL_STATE_FILE),
        pipeline,
        route: compileRoutes(config.pipeline),
        objects,
      })
    : undefined;
  if (poller) checks.push(...poller.checks());
  return {
    start: async () => {
      await consumer?.start();
      await poller?.start();
    },
    stop: async () => {
      await Promise.all([consumer?.stop(), poller?.stop()]);
    },
    get inFlight() {
      return (consumer?.inFlight ?? 0) + (poller?.inFlight ?? 0);
    },
    checks,
    destroy: () => {
      sqsClientsOf?.destroy();
      stateS3?.destroy();
    },
  };
}

/** Closes what start-up had started, newest first; a close that fails or hangs does not stop the rest. */
async function closeStarted(
  started: { name: string; close: () => Promise<unknown> }[],
  log: Logger,
  graceSeconds: number,
): Promise<void> {
  for (const step of started.reverse()) {
    const outcome = await withTimeout(
      step.close().then(
        () => 'closed' as const,
        (err: unknown) => err,
      ),
      graceSeconds * 1000,
      'timeout' as const,
      { unref: true },
    );
    if (outcome === 'timeout') log.warn({ step: step.name }, 'closing after a failed start-up timed out');
    else if (outcome !== 'closed')
      log.warn({ step: step.name, err: errorMessage(outcome) }, 'closing after a failed start-up failed');
  }
}

async function stopConsumer(deps: {
  signal: NodeJS.Signals;
  log: Logger;
  graceSeconds: number;
  sources: RunSources;
  pipeline: RunningPipeline;
  detection: InStreamDetection | undefined;
  reporter: { close(): Promise<void> } | undefined;
  observe: { close(): Promise<void> } | undefined;
}): Promise<void> {
  const { signal, log, graceSeconds, sources, pipeline, detection, reporter, observe } = deps;
  log.info({ signal, inFlight: sources.inFlight }, 'stopping: no new work; finishing in-flight work');
  await sources.stop();
  // Detection needs no sink, so its open correlation windows are closed and written while the sinks
  // drain: after the drain, a sink still retrying when the grace ran out (the exit below) or one that
  // failed to close would lose those alerts.
  const finished = (async () => {
    try {
      await detection?.finish();
    } catch (err) {
      // Alerts that could not be written are an error of the run, not a reason to skip the rest of the stop.
      log.error({ err: errorMessage(err) }, 'in-stream alerts were lost');
      process.exitCode = 1;
    }
  })();
  // Sinks get the same grace to drain. What they cannot deliver in time is safe: its messages were not
  // deleted, so SQS hands them to the next consumer (a poller reads its objects again at the next start);
  // waiting out a sink's whole retry window is not.
  const drained = await withTimeout(
    (async () => {
      try {
        await pipeline.close();
      } finally {
        await finished;
      }
      await reporter?.close();
      return true;
    })(),
    graceSeconds * 1000,
    false,
    { unref: true },
  );
  await observe?.close();
  sources.destroy();
  if (!drained) {
    log.warn(
      { graceSeconds },
      'sinks did not drain within the grace period; their records will be delivered again (SQS redelivers their messages; a poller reads their objects again)',
    );
    // Their retry timers would keep the process alive; the messages are safe, so leave now.
    process.exit(process.exitCode ?? 0);
  }
  log.info('stopped');
}

/** The demo writes to ./out unless the user configured sinks of their own. */
function demoConfig(config: ConnectorConfig): ConnectorConfig {
  const hasSink = config.sinks.hec || config.sinks.search || config.sinks.file;
  if (hasSink) return config;
  return validateConfig({ ...config, sinks: { file: { dir: 'out', schema: 'ecs' } } }, 'embedded demo');
}

/**
 * Resolves on the first SIGTERM or SIGINT. One request can arrive twice at once (the launcher passes it on
 * while a process manager signals the whole group), so a signal within a second of the first is taken as
 * that duplicate and ignored; a later one ends the process at once, as a second Ctrl-C does.
 */
function stopRequested(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let firstAt: number | undefined;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (firstAt === undefined) {
        firstAt = Date.now();
        resolve(signal);
      } else if (Date.now() - firstAt > 1_000) {
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
