import { SQSClient } from '@aws-sdk/client-sqs';
import PQueue from 'p-queue';
import { type ConnectorConfigInput, validateConfig } from '../config/index.js';
import { createLogger, createMetrics, type Logger, type Metrics } from '../observe/index.js';
import { buildPipeline, createSinks, type RunningPipeline } from '../pipeline/build.js';
import { compileRoutes } from '../pipeline/routes.js';
import { processMessage } from '../source/message.js';
import { SqsConsumer } from '../source/sqs.js';
import type { Sink } from '../types.js';

export interface BenchConsumer {
  metrics: Metrics;
  pipeline: RunningPipeline;
  stop(): Promise<void>;
}

/** Wraps a sink; used by the latency bench to see when each record was accepted. */
export type SinkWrapper = (sink: Sink) => Sink;

/**
 * The consumer `run` starts (same pipeline, SQS consumer and message handling), in this process, with its
 * own metrics registry so that counters start at zero for each measurement.
 */
export async function startBenchConsumer(
  input: ConnectorConfigInput,
  options: { log?: Logger; wrapSink?: SinkWrapper } = {},
): Promise<BenchConsumer> {
  const config = validateConfig(input, 'bench');
  const log = options.log ?? createLogger('warn');
  const metrics = createMetrics();
  let sinks = await createSinks(config, log);
  if (options.wrapSink) sinks = sinks.map(options.wrapSink);
  const pipeline = await buildPipeline(config, { log, metrics, sinks });
  const sqs = new SQSClient({
    region: config.aws.region,
    ...(config.aws.endpoint ? { endpoint: config.aws.endpoint } : {}),
  });
  const sqsConfig = config.source.sqs!;
  const objects = new PQueue({ concurrency: config.pipeline.maxInFlightObjects });
  const route = compileRoutes(config.pipeline);
  const consumer = new SqsConsumer({
    sqs,
    config: sqsConfig,
    log,
    metrics,
    handle: (body, signal) => processMessage(body, { s3: pipeline.s3, pipeline, objects, route, signal }),
  });
  await consumer.start();
  return {
    metrics,
    pipeline,
    async stop() {
      await consumer.stop();
      await pipeline.close();
      pipeline.s3.destroy();
      sqs.destroy();
    },
  };
}

/** Sum of a counter's values over all label sets. */
export async function counterTotal(counter: {
  get(): Promise<{ values: { value: number }[] }>;
}): Promise<number> {
  const { values } = await counter.get();
  return values.reduce((n, v) => n + v.value, 0);
}
