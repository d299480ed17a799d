import PQueue from 'p-queue';
import type { ConnectorConfig } from '../config/index.js';
import { ConfigError } from '../config/index.js';
import type { Logger, Metrics } from '../observe/index.js';
import type { RunningPipeline } from '../pipeline/build.js';
import { compileRoutes } from '../pipeline/routes.js';
import { processMessage } from './message.js';
import { createSnsVerifier } from './sns-signature.js';
import { SqsConsumer, sqsClients } from './sqs.js';

/**
 * The SQS consumer of a built pipeline, as `run` starts it: queues read in their own regions (through the
 * source role when one is set), objects in their buckets' regions, objects in flight bounded across all
 * messages and queues. Not started; `sqs.destroy()` releases its clients once it has stopped.
 */
export function pipelineConsumer(
  config: ConnectorConfig,
  pipeline: RunningPipeline,
  deps: { log: Logger; metrics: Metrics; objects?: PQueue },
): { consumer: SqsConsumer; sqs: ReturnType<typeof sqsClients> } {
  const sqsConfig = config.source.sqs;
  if (!sqsConfig) throw new ConfigError('no SQS queue configured', { key: 'source.sqs.queueUrls' });
  const sqs = sqsClients(config.aws, pipeline.sourceCredentials);
  const objects = deps.objects ?? new PQueue({ concurrency: config.pipeline.maxInFlightObjects });
  const route = compileRoutes(config.pipeline);
  const verifySns = sqsConfig.verifySnsSignatures ? createSnsVerifier() : undefined;
  const s3 = (region: string | undefined) => pipeline.s3Clients.get(region);
  const consumer = new SqsConsumer({
    sqs: sqs.forQueue,
    config: sqsConfig,
    log: deps.log,
    metrics: deps.metrics,
    handle: (body, signal) => processMessage(body, { s3, pipeline, objects, route, verifySns, signal }),
  });
  return { consumer, sqs };
}
