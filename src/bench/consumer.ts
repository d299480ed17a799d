import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type ConnectorConfigInput, validateConfig } from '../config/index.js';
import { createLogger, createMetrics, type Logger, type Metrics } from '../observe/index.js';
import { buildPipeline, createSinks, type RunningPipeline } from '../pipeline/build.js';
import { createInStreamDetection } from '../pipeline/detect.js';
import { pipelineConsumer } from '../source/consumer.js';
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
  options: {
    log?: Logger;
    wrapSink?: SinkWrapper;
    detection?: boolean;
    /** Called when everything is set up, just before the consumer starts receiving. */
    beforeStart?: () => void;
  } = {},
): Promise<BenchConsumer> {
  const config = validateConfig(input, 'bench');
  const log = options.log ?? createLogger('warn');
  const metrics = createMetrics();
  let sinks = await createSinks(config, log);
  if (options.wrapSink) sinks = sinks.map(options.wrapSink);
  // In-stream detection as `run` has it by default, alerts file and "detection fired" lines included;
  // those are written where they cost what they cost in production but do not flood the bench's output.
  const alertsDir = options.detection ? await mkdtemp(join(tmpdir(), 'asc-bench-alerts-')) : undefined;
  const detection = alertsDir
    ? await createInStreamDetection(
        { ...config.detection, enabled: true },
        { log: createLogger('warn', discard()), metrics, alertsFile: join(alertsDir, 'alerts.ndjson') },
      )
    : undefined;
  const pipeline = await buildPipeline(config, { log, metrics, sinks, observe: detection?.observe });
  const { consumer, sqs } = pipelineConsumer(config, pipeline, { log, metrics });
  options.beforeStart?.();
  await consumer.start();
  return {
    metrics,
    pipeline,
    async stop() {
      await consumer.stop();
      await pipeline.close();
      pipeline.s3Clients.destroy();
      sqs.destroy();
      await detection?.finish();
      if (alertsDir) await rm(alertsDir, { recursive: true, force: true });
    },
  };
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
}

/** Sum of a counter's values over all label sets. */
export async function counterTotal(counter: {
  get(): Promise<{ values: { value: number }[] }>;
}): Promise<number> {
  const { values } = await counter.get();
  return values.reduce((n, v) => n + v.value, 0);
}
