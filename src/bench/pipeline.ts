import type { ConnectorConfigInput } from '../config/index.js';
import {
  type BenchBucket,
  cloudTrailKey,
  createBenchBucket,
  putObjects,
  queueDepth,
  removeBenchBucket,
  waitForDepth,
} from './aws.js';
import { counterTotal, startBenchConsumer } from './consumer.js';
import { cloudTrailObject } from './objects.js';
import { MemorySampler } from './sampler.js';

export type BenchSinkName = 'hec' | 'search';

export interface BenchServices {
  /** S3 + SQS endpoint. */
  moto: string;
  search?: string;
  hec?: { url: string; token: string };
}

export interface PipelineRunOptions {
  services: BenchServices;
  sink: BenchSinkName;
  objects: number;
  /** Decompressed bytes per object. */
  objectBytes: number;
  /** pipeline.maxInFlightObjects; the product's default (8) when not given. */
  maxInFlightObjects?: number;
  /** Index and template prefix for the search sink (removed by the caller). */
  indexPrefix: string;
  seed: number;
  timeoutMs?: number;
  /** Run in-stream detection over every record, as `run` does by default (bundled rules). */
  detection?: boolean;
}

export interface PipelineRunResult {
  sink: BenchSinkName;
  /** Whether in-stream detection ran over every record. */
  detection: boolean;
  /** Alerts in-stream detection raised (0 without it). */
  alerts: number;
  objects: number;
  maxInFlightObjects: number;
  /** Batch age of the sink (see BENCH_SINK_FLUSH_MS). */
  sinkFlushMs: number;
  records: number;
  decompressedBytes: number;
  compressedBytes: number;
  /** From consumer start until the last message was deleted. */
  seconds: number;
  recordsPerSecond: number;
  /** Decompressed MiB per second of wall time. */
  mibPerSecond: number;
  /** Process CPU (user + system) over the run. */
  cpuSeconds: number;
  cpuSecondsPerMillionRecords: number;
  /** Decompressed MiB per CPU-second: the per-core figure the goal is stated in. */
  mibPerCpuSecond: number;
  /** Largest resident set size of this process while the consumer ran (sampled every 20 ms). */
  peakRssBytes: number;
  /** Resident set size just before the consumer started (the bench process itself). */
  baselineRssBytes: number;
  /** Records the sink acknowledged (from the consumer's own counters). */
  acked: number;
}

/**
 * A partly filled batch waits for its age before it is sent, and an object is done only when its last
 * batch is acknowledged; with few objects in flight that age, not the CPU, sets the pace. The bench uses
 * the same short age for both sinks (the product defaults are HEC 5 s, search 1 s) and reports it.
 */
export const BENCH_SINK_FLUSH_MS = 200;

/** Sink settings for the bench: the product's defaults except the batch age. */
export function benchSinkConfig(
  services: BenchServices,
  sink: BenchSinkName,
  indexPrefix: string,
  overrides: { batchAgeMs?: number } = {},
): NonNullable<ConnectorConfigInput['sinks']> {
  if (sink === 'hec') {
    if (!services.hec) throw new Error('no HEC endpoint');
    return {
      hec: {
        urls: [services.hec.url],
        token: services.hec.token,
        batch: { maxAgeMs: overrides.batchAgeMs ?? BENCH_SINK_FLUSH_MS },
      },
    };
  }
  if (!services.search) throw new Error('no search endpoint');
  return {
    search: {
      flavour: 'opensearch',
      node: services.search,
      target: { mode: 'index', pattern: `${indexPrefix}-{logType}` },
      setup: { auto: true, templatePrefix: indexPrefix },
      flushIntervalMs: overrides.batchAgeMs ?? BENCH_SINK_FLUSH_MS,
    },
  };
}

export function consumerConfig(
  bucket: BenchBucket,
  sinks: NonNullable<ConnectorConfigInput['sinks']>,
  extra: { maxInFlightObjects?: number; deadLetterDir?: string } = {},
): ConnectorConfigInput {
  return {
    aws: { region: bucket.region, endpoint: bucket.endpoint, forcePathStyle: true },
    source: { sqs: { queueUrls: [bucket.queueUrl], waitTimeSeconds: 1 } },
    sinks,
    pipeline: extra.maxInFlightObjects ? { maxInFlightObjects: extra.maxInFlightObjects } : {},
    ...(extra.deadLetterDir ? { deadLetter: { dir: extra.deadLetterDir } } : {}),
    observe: { metricsPort: 0, logLevel: 'warn' },
  };
}

/**
 * Puts `objects` CloudTrail objects into a bucket that notifies a queue, then runs the consumer in this
 * process (the code path of `run`) until every message is deleted, which happens only once every record
 * is acknowledged by the sink.
 */
export async function benchPipeline(options: PipelineRunOptions): Promise<PipelineRunResult> {
  const bucket = await createBenchBucket(options.services.moto, options.sink);
  try {
    let records = 0;
    let decompressedBytes = 0;
    let compressedBytes = 0;
    // Generated and uploaded a few at a time, so that a 200 MB object is never held next to others.
    const batch = Math.max(1, Math.min(16, Math.floor(64_000_000 / Math.max(1, options.objectBytes))));
    for (let start = 0; start < options.objects; start += batch) {
      const made = await Promise.all(
        Array.from({ length: Math.min(batch, options.objects - start) }, (_, j) =>
          cloudTrailObject(options.seed + start + j, options.objectBytes).then((o) => ({
            ...o,
            i: start + j,
          })),
        ),
      );
      for (const o of made) {
        records += o.records;
        decompressedBytes += o.decompressedBytes;
        compressedBytes += o.gz.length;
      }
      await putObjects(
        bucket,
        made.map((o) => ({ key: cloudTrailKey(o.i), body: o.gz })),
      );
    }
    await waitForDepth(bucket, options.objects);
    global.gc?.();

    const config = consumerConfig(
      bucket,
      benchSinkConfig(options.services, options.sink, options.indexPrefix),
      options.maxInFlightObjects ? { maxInFlightObjects: options.maxInFlightObjects } : {},
    );
    const baselineRssBytes = process.memoryUsage.rss();
    const memory = new MemorySampler();
    let cpu = process.cpuUsage();
    let started = performance.now();
    const consumer = await startBenchConsumer(config, {
      detection: options.detection ?? false,
      // Loading and compiling the rules is start-up work, done once per process: not per record.
      beforeStart: () => {
        cpu = process.cpuUsage();
        started = performance.now();
      },
    });
    let seconds: number;
    let cpuMicros: number;
    let acked: number;
    let alerts: number;
    try {
      const deadline = Date.now() + (options.timeoutMs ?? 600_000);
      const ackedNow = async () =>
        (await consumer.metrics.sinkRecords.get()).values
          .filter((v) => v.labels.outcome === 'acked')
          .reduce((n, v) => n + v.value, 0);
      const timedOut = async (what: string) => {
        if (Date.now() <= deadline) return;
        throw new Error(
          `pipeline bench (${options.sink}): ${what} in time (${await ackedNow()} of ${records} records acknowledged, ${await counterTotal(consumer.metrics.messagesDeleted)} of ${options.objects} messages deleted)`,
        );
      };
      // Every record acknowledged, then every message deleted (S3's test event is one more message).
      while ((await ackedNow()) < records) {
        await timedOut('not every record was acknowledged');
        await new Promise((r) => setTimeout(r, 10));
      }
      while ((await queueDepth(bucket)) > 0) {
        await timedOut('not every message was deleted');
        await new Promise((r) => setTimeout(r, 10));
      }
      seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      cpuMicros = used.user + used.system;
      acked = await ackedNow();
      alerts = await counterTotal(consumer.metrics.alerts);
    } finally {
      memory.stop();
      await consumer.stop();
    }
    const mib = decompressedBytes / 1024 / 1024;
    const cpuSeconds = cpuMicros / 1e6;
    return {
      sink: options.sink,
      detection: options.detection ?? false,
      alerts,
      objects: options.objects,
      maxInFlightObjects: options.maxInFlightObjects ?? 8,
      sinkFlushMs: BENCH_SINK_FLUSH_MS,
      records,
      decompressedBytes,
      compressedBytes,
      seconds: round(seconds, 3),
      recordsPerSecond: Math.round(records / seconds),
      mibPerSecond: round(mib / seconds, 2),
      cpuSeconds: round(cpuSeconds, 3),
      cpuSecondsPerMillionRecords: round((cpuSeconds / records) * 1e6, 2),
      mibPerCpuSecond: round(mib / cpuSeconds, 2),
      peakRssBytes: memory.peakRss,
      baselineRssBytes,
      acked,
    };
  } finally {
    await removeBenchBucket(bucket);
  }
}

/** `n` to `digits` decimals; a figure too small for them keeps two significant digits instead of reading 0. */
export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  const rounded = Math.round(n * f) / f;
  return rounded === 0 && n !== 0 ? Number(n.toPrecision(2)) : rounded;
}
