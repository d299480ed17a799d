import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import PQueue from 'p-queue';
import { type ConnectorConfig, loadConfig, resolveSecretArns } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { useProxyConfig } from '../network/index.js';
import { createEmfEmitter, createLogger, type EmfEmitter, metrics } from '../observe/index.js';
import { buildPipeline, type RunningPipeline } from '../pipeline/build.js';
import { compileRoutes } from '../pipeline/routes.js';
import { withTimeout } from '../timeout.js';
import { type MessageContext, processMessage } from './message.js';
import { createSnsVerifier } from './sns-signature.js';

interface Runtime {
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
  const startedAt = Date.now();
  const remaining = options.remainingTimeMs?.();
  const deadline = remaining === undefined ? Infinity : startedAt + remaining - reserveMs(remaining);
  runtime ??= (async () =>
    init(
      options.config ??
        loadConfig({ file: process.env.ASC_CONFIG_FILE, env: await resolveSecretArns(process.env) }),
    ))();
  // A failed start (unreadable secret, bad config) is retried on the next invocation, not cached.
  runtime.catch(() => {
    runtime = undefined;
  });
  const { pipeline, context } = await runtime;
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
  let finished = false;
  void outcomes.finally(() => {
    finished = true;
  });
  while (!finished && Date.now() < deadline) {
    await withTimeout(outcomes, Math.min(100, deadline - Date.now()), undefined);
    // A sink that keeps retrying must not hold the invocation past its deadline either.
    await withTimeout(Promise.all(pipeline.sinks.map((s) => s.flush())), deadline - Date.now(), undefined);
  }
  if (!finished) {
    abandon.abort();
    pipeline.log.warn(
      { unfinished: event.Records.length - ok.size, of: event.Records.length },
      'the invocation is about to time out: unfinished messages are reported for retry',
    );
  }
  // The same counters as /metrics, as CloudWatch embedded metrics: what this invocation added.
  emf ??= createEmfEmitter(metrics().registry);
  await emf.emit();
  const failed = event.Records.filter((r) => ok.get(r.messageId) !== true);
  return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.messageId })) };
}

/** The Lambda entry point (`dist/source/lambda.handler`). */
export const handler = (event: SQSEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) =>
  handleSqsEvent(event, context ? { remainingTimeMs: () => context.getRemainingTimeInMillis() } : {});

/** For tests: forget the warm runtime so the next event builds a new one from its config. */
export async function resetLambdaRuntime(): Promise<void> {
  const current = runtime;
  runtime = undefined;
  if (current) await (await current).pipeline.close();
}
