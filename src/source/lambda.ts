import type { S3Client } from '@aws-sdk/client-s3';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import PQueue from 'p-queue';
import { type ConnectorConfig, loadConfig, resolveSecretArns } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { useProxyConfig } from '../network/index.js';
import { createEmfEmitter, createLogger, type EmfEmitter, metrics } from '../observe/index.js';
import { buildPipeline, type RunningPipeline, s3Client } from '../pipeline/build.js';
import { compileRoutes } from '../pipeline/routes.js';
import { isScheduledEvent, type ScheduledEvent } from '../scheduled-event.js';
import { withTimeout } from '../timeout.js';
import { type MessageContext, processMessage } from './message.js';
import { S3Poller } from './poll.js';
import { s3StateStore } from './poll-state.js';
import { createSnsVerifier } from './sns-signature.js';

interface Runtime {
  config: ConnectorConfig;
  pipeline: RunningPipeline;
  context: MessageContext;
}

let runtime: Promise<Runtime> | undefined;
let emf: EmfEmitter | undefined;

async function init(config: ConnectorConfig): Promise<Runtime> {
  const log = createLogger(config.observe.logLevel);
  useProxyConfig(config.proxy, { log });
  const pipeline = await buildPipeline(config, { log, metrics: metrics() });
  return {
    config,
    pipeline,
    context: {
      s3: (region) => pipeline.s3Clients.get(region),
      pipeline,
      objects: new PQueue({ concurrency: config.pipeline.maxInFlightObjects }),
      route: compileRoutes(config.pipeline),
      verifySns: config.source.sqs?.verifySnsSignatures ? createSnsVerifier() : undefined,
    },
  };
}

export interface SqsEventOptions {
  /** Defaults to the config file and environment, read once per container. */
  config?: ConnectorConfig;
  /** The invocation's time left (Lambda's `context.getRemainingTimeInMillis`). */
  remainingTimeMs?: () => number;
}

/**
 * Time kept back from the invocation's limit to abandon the unfinished messages, report them and emit the
 * metrics: a tenth of the time left when the batch starts, between 1 and 10 seconds.
 */
function reserveMs(remainingMs: number): number {
  return Math.min(10_000, Math.max(1_000, remainingMs / 10));
}

/**
 * Handles one SQS batch and reports the messages to retry (`batchItemFailures`), so that one bad
 * message never makes Lambda retry the whole batch. Sinks live across invocations of a warm container;
 * they are flushed while the batch is under way so that no record waits for a batch timer. Shortly before
 * the invocation's time runs out, the messages not yet finished are abandoned and reported: were Lambda to
 * time the invocation out, it would retry the whole batch, and the finished objects would be sent twice.
 */
export async function handleSqsEvent(
  event: SQSEvent,
  options: SqsEventOptions = {},
): Promise<SQSBatchResponse> {
  const deadline = deadlineOf(options);
  const { pipeline, context } = await warmRuntime(options);
  const abandon = new AbortController();
  const invocation: MessageContext = { ...context, signal: abandon.signal };
  const ok = new Map<string, boolean>();
  const outcomes = Promise.all(
    event.Records.map(async (record) => {
      try {
        const outcome = await processMessage(record.body, invocation);
        ok.set(record.messageId, outcome.done);
      } catch (err) {
        pipeline.log.error(
          { messageId: record.messageId, err: errorMessage(err) },
          'message handling failed',
        );
        ok.set(record.messageId, false);
      }
    }),
  );
  if (!(await untilDone(outcomes, pipeline, deadline))) {
    abandon.abort();
    pipeline.log.warn(
      { unfinished: event.Records.length - ok.size, of: event.Records.length },
      'the invocation is about to time out: unfinished messages are reported for retry',
    );
  }
  await emitMetrics();
  const failed = event.Records.filter((r) => ok.get(r.messageId) !== true);
  return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
}

/** What a scheduled invocation did: polled, or why not. */
export interface PollAnswer {
  /** `standby`: another invocation (or poller) holds the state now; the next schedule tries again. */
  poll: 'done' | 'cut-short' | 'standby' | 'not-configured' | 'failed';
}

/**
 * A scheduled invocation (an EventBridge rule every minute or so): one round of the S3 poller over every
 * location, for buckets without notifications. The state must be in S3 (`source.s3Poll.stateS3`): a
 * container's disk does not outlive it, and invocations may run in several. Reads still going shortly
 * before the invocation's time runs out are cut off and retried at the next round.
 */
export async function handleScheduledPoll(options: SqsEventOptions = {}): Promise<PollAnswer> {
  const deadline = deadlineOf(options);
  const { config, pipeline, context } = await warmRuntime(options);
  const poll = config.source.s3Poll;
  if (!poll?.stateS3) {
    pipeline.log.error(
      'a scheduled invocation polls S3, which needs source.s3Poll with its state in S3 (stateS3; ASC_S3_POLL_LOCATIONS, ASC_S3_POLL_STATE_S3)',
    );
    return { poll: 'not-configured' };
  }
  stateS3 ??= s3Client(config.aws);
  const poller = new S3Poller({
    config: poll,
    store: s3StateStore(stateS3, poll.stateS3),
    pipeline,
    route: context.route,
    objects: context.objects,
  });
  // A state it cannot read (not one a poller wrote) fails the round, said once here and in Lambda's errors.
  const result: { outcome: 'polled' | 'standby' | 'failed' } = { outcome: 'failed' };
  const round = poller.pollOnce(deadline).then(
    (outcome) => {
      result.outcome = outcome;
    },
    (err: unknown) => {
      pipeline.log.error({ err: errorMessage(err) }, 'S3 poller: the round could not start');
    },
  );
  // The poller stops at the deadline and then saves its state, for which the reserve is kept.
  const finished = await untilDone(round, pipeline, deadline + reserveMs(0) / 2);
  await emitMetrics();
  if (!finished) return { poll: 'cut-short' };
  return { poll: result.outcome === 'polled' ? 'done' : result.outcome };
}

let stateS3: S3Client | undefined;

/** The invocation's deadline: its time left less the reserve, or none when Lambda did not say. */
function deadlineOf(options: SqsEventOptions): number {
  const remaining = options.remainingTimeMs?.();
  return remaining === undefined ? Infinity : Date.now() + remaining - reserveMs(remaining);
}

/** The container's pipeline, built on the first invocation; a failed start is retried, not cached. */
async function warmRuntime(options: SqsEventOptions): Promise<Runtime> {
  runtime ??= (async () =>
    init(
      options.config ??
        loadConfig({ file: process.env.ASC_CONFIG_FILE, env: await resolveSecretArns(process.env) }),
    ))();
  runtime.catch(() => {
    runtime = undefined;
  });
  return runtime;
}

/**
 * Waits for `work` while flushing the sinks, so that no record waits for a batch timer, until it ends
 * or the deadline passes; whether it ended. `work` must not reject.
 */
async function untilDone(
  work: Promise<unknown>,
  pipeline: RunningPipeline,
  deadline: number,
): Promise<boolean> {
  let finished = false;
  void work.finally(() => {
    finished = true;
  });
  while (!finished && Date.now() < deadline) {
    await withTimeout(work, Math.min(100, deadline - Date.now()), undefined);
    // A sink that keeps retrying must not hold the invocation past its deadline either.
    await withTimeout(Promise.all(pipeline.sinks.map((s) => s.flush())), deadline - Date.now(), undefined);
  }
  return finished;
}

/** The same counters as /metrics, as CloudWatch embedded metrics: what this invocation added. */
async function emitMetrics(): Promise<void> {
  emf ??= createEmfEmitter(metrics().registry);
  await emf.emit();
}

/**
 * The Lambda entry point (`dist/source/lambda.handler`): SQS batches, and scheduled events that run the
 * S3 poller.
 */
export const handler = (
  event: SQSEvent | ScheduledEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => {
  const options = context ? { remainingTimeMs: () => context.getRemainingTimeInMillis() } : {};
  return isScheduledEvent(event) ? handleScheduledPoll(options) : handleSqsEvent(event as SQSEvent, options);
};

/** For tests: forget the warm runtime so the next event builds a new one from its config. */
export async function resetLambdaRuntime(): Promise<void> {
  const current = runtime;
  runtime = undefined;
  stateS3?.destroy();
  stateS3 = undefined;
  if (current) await (await current).pipeline.close();
}
