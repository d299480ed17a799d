import { Writable } from 'node:stream';
import {
  type ConnectorConfig,
  type ConnectorConfigInput,
  validateConfig,
} from '../../../src/config/index.js';
import { createLogger, createMetrics, type Metrics } from '../../../src/observe/index.js';
import { buildPipeline, type RunningPipeline } from '../../../src/pipeline/build.js';
import { pipelineConsumer } from '../../../src/source/consumer.js';
import { serviceEndpoints } from '../../services/endpoints.js';

/** Log lines written by a consumer under test, parsed. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(JSON.parse(line));
    done();
  }
  text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

/** Sink settings for the real test services, with short timers so tests do not wait on batch ages. */
export function testSinks(indexPrefix: string, options: { searchNode?: string; hec?: boolean } = {}) {
  const services = serviceEndpoints();
  return {
    search: {
      flavour: 'opensearch' as const,
      node: options.searchNode ?? services.opensearch.url,
      target: { mode: 'index' as const, pattern: `${indexPrefix}-{logType}` },
      flushIntervalMs: 100,
      setup: { auto: true, templatePrefix: indexPrefix.replace(/[^a-z0-9_-]/g, '') },
      retry: { initialDelayMs: 100, maxDelayMs: 1000, maxElapsedMs: 120_000 },
    },
    ...(options.hec === false
      ? {}
      : {
          hec: {
            urls: [services.hec.url],
            token: services.hec.token,
            batch: { maxAgeMs: 100 },
            retry: { initialDelayMs: 100, maxDelayMs: 1000 },
          },
        }),
  };
}

export interface RunningConsumer {
  config: ConnectorConfig;
  metrics: Metrics;
  logs: LogCapture;
  pipeline: RunningPipeline;
  stop(): Promise<void>;
}

/** The same consumer `run` starts, in-process, against moto and the given sinks. */
export async function startConsumer(input: ConnectorConfigInput): Promise<RunningConsumer> {
  const config = validateConfig(input, 'test');
  const logs = new LogCapture();
  const log = createLogger('info', logs);
  const metrics = createMetrics();
  const pipeline = await buildPipeline(config, { log, metrics });
  const { consumer, sqs } = pipelineConsumer(config, pipeline, { log, metrics });
  await consumer.start();
  return {
    config,
    metrics,
    logs,
    pipeline,
    async stop() {
      await consumer.stop();
      await pipeline.close();
      pipeline.s3Clients.destroy();
      sqs.destroy();
    },
  };
}

export async function counterValue(
  metrics: Metrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  if (!metric) return 0;
  return (metric.values as { value: number; labels: Record<string, string> }[])
    .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
    .reduce((n, v) => n + v.value, 0);
}
