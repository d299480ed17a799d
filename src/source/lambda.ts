import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import PQueue from 'p-queue';
import { type ConnectorConfig, loadConfig, resolveSecretArns } from '../config/index.js';
import { errorMessage } from '../errors.js';
import { createEmfEmitter, createLogger, type EmfEmitter, metrics } from '../observe/index.js';
import { buildPipeline, type RunningPipeline } from '../pipeline/build.js';
import { compileRoutes } from '../pipeline/routes.js';
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
  const pipeline = await buildPipeline(config, { log, metrics: metrics() });
  return {
    pipeline,
    context: {
      s3: pipeline.s3,
      pipeline,
      objects: new PQueue({ concurrency: config.pipeline.maxInFlightObjects }),
      route: compileRoutes(config.pipeline),
      verifySns: config.source.sqs?.verifySnsSignatures ? createSnsVerifier() : undefined,
    },
  };
}

/**
 * Handles one SQS batch and reports the messages to retry (`batchItemFailures`), so that one bad
 * message never makes Lambda retry the whole batch. Sinks live across invocations of a warm container;
 * they are flushed while the batch is under way so that no record waits for a batch timer.
 */
export async function handleSqsEvent(event: SQSEvent, config?: ConnectorConfig): Promise<SQSBatchResponse> {
  runtime ??= (async () =>
    init(
      config ?? loadConfig({ file: process.env.ASC_CONFIG_FILE, env: await resolveSecretArns(process.env) }),
    ))();
  // A failed start (unreadable secret, bad config) is retried on the next invocation, not cached.
  runtime.catch(() => {
    runtime = undefined;
  });
  const { pipeline, context } = await runtime;
  const outcomes = Promise.all(
    event.Records.map(async (record) => {
      try {
        const outcome = await processMessage(record.body, context);
        return { id: record.messageId, ok: outcome.done };
      } catch (err) {
        pipeline.log.error(
          { messageId: record.messageId, err: errorMessage(err) },
          'message handling failed',
        );
        return { id: record.messageId, ok: false };
      }
    }),
  );
  let finished = false;
  void outcomes.finally(() => {
    finished = true;
  });
  while (!finished) {
    await Promise.race([outcomes, new Promise((r) => setTimeout(r, 100))]);
    await Promise.all(pipeline.sinks.map((s) => s.flush()));
  }
  const results = await outcomes;
  // The same counters as /metrics, as CloudWatch embedded metrics: what this invocation added.
  emf ??= createEmfEmitter(metrics().registry);
  await emf.emit();
  return { batchItemFailures: results.filter((r) => !r.ok).map((r) => ({ itemIdentifier: r.id })) };
}

/** The Lambda entry point (`dist/source/lambda.handler`). */
export const handler = (event: SQSEvent): Promise<SQSBatchResponse> => handleSqsEvent(event);

/** For tests: forget the warm runtime so the next event builds a new one from its config. */
export async function resetLambdaRuntime(): Promise<void> {
  const current = runtime;
  runtime = undefined;
  if (current) await (await current).pipeline.close();
}
