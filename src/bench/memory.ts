import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  cloudTrailKey,
  createBenchBucket,
  putObjects,
  queueDepth,
  removeBenchBucket,
  waitForDepth,
} from './aws.js';
import { cloudTrailObject } from './objects.js';
import {
  type BenchServices,
  type BenchSinkName,
  benchSinkConfig,
  consumerConfig,
  round,
} from './pipeline.js';
import {
  childEnv,
  cpuSecondsOf,
  freePort,
  peakRssOf,
  scrape,
  spawnRunConsumer,
  stopConsumer,
} from './scale-out.js';
import { searchAdmin } from './search-admin.js';

export interface RunMemoryResult {
  sink: BenchSinkName;
  objectBytes: number;
  objects: number;
  records: number;
  /** From the consumer's "consumer started" until every record was acknowledged and the queue was empty. */
  seconds: number;
  recordsPerSecond: number;
  mibPerSecond: number;
  /** Peak resident set size of the `run` process (Linux VmHWM), the whole process from start to finish. */
  peakRssBytes: number;
  /**
   * CPU (user + system) of the `run` process over the same span, with the heap settings it runs with in
   * production (the pipeline part measures the code path inside the bench process, whose heap differs).
   */
  cpuSeconds: number;
  /** Decompressed MiB per CPU-second of the `run` process: the per-core figure as users run it. */
  mibPerCpuSecond: number;
}

/**
 * Memory of the product as users run it: one `aws-siem-connector run` process at default settings
 * (except the sink batch age), fed objects of one size, its peak RSS read from the kernel afterwards.
 * Separate from the bench process, whose own heap would otherwise be counted.
 */
export async function benchRunMemory(options: {
  services: BenchServices;
  sink: BenchSinkName;
  objectBytes: number;
  objects: number;
  indexPrefix: string;
  seed: number;
  timeoutMs?: number;
}): Promise<RunMemoryResult> {
  const bucket = await createBenchBucket(options.services.moto, 'mem');
  const dir = await mkdtemp(path.join(tmpdir(), 'asc-bench-mem-'));
  let child: ReturnType<typeof spawnRunConsumer> | undefined;
  try {
    let records = 0;
    let decompressed = 0;
    for (let i = 0; i < options.objects; i++) {
      const o = await cloudTrailObject(options.seed + i, options.objectBytes);
      records += o.records;
      decompressed += o.decompressedBytes;
      await putObjects(bucket, [{ key: cloudTrailKey(i), body: o.gz }]);
    }
    await waitForDepth(bucket, options.objects);
    const port = await freePort();
    const config = consumerConfig(
      bucket,
      benchSinkConfig(options.services, options.sink, options.indexPrefix),
      {
        deadLetterDir: path.join(dir, 'dead-letter'),
      },
    );
    config.observe = { metricsPort: port, logLevel: 'info' };
    const file = path.join(dir, 'consumer.json');
    await writeFile(file, JSON.stringify(config));
    child = spawnRunConsumer(file, port, childEnv(bucket.region));
    await child.started;
    const started = performance.now();
    const cpuAtStart = await cpuSecondsOf(child.child.pid);
    const deadline = Date.now() + (options.timeoutMs ?? 900_000);
    const acked = () => scrape(port, 'asc_sink_records_total');
    while ((await acked()) < records || (await queueDepth(bucket)) > 0) {
      if (Date.now() > deadline) {
        throw new Error(
          `memory run (${options.objectBytes} B objects): ${await acked()} of ${records} records acknowledged in time`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    const peak = await peakRssOf(child.child.pid);
    const cpuAtEnd = await cpuSecondsOf(child.child.pid);
    if (peak === undefined || cpuAtStart === undefined || cpuAtEnd === undefined)
      throw new Error('peak RSS and CPU of a child process are only read on Linux (/proc/<pid>)');
    const cpuSeconds = cpuAtEnd - cpuAtStart;
    return {
      sink: options.sink,
      objectBytes: options.objectBytes,
      objects: options.objects,
      records,
      seconds: round(seconds, 3),
      recordsPerSecond: Math.round(records / seconds),
      mibPerSecond: round(decompressed / 1024 / 1024 / seconds, 2),
      peakRssBytes: peak,
      cpuSeconds: round(cpuSeconds, 2),
      mibPerCpuSecond: cpuSeconds > 0 ? round(decompressed / 1024 / 1024 / cpuSeconds, 2) : 0,
    };
  } finally {
    if (child) await stopConsumer(child);
    if (options.services.search && options.sink === 'search') {
      const admin = searchAdmin(options.services.search);
      await admin.remove(options.indexPrefix);
      await admin.close();
    }
    await removeBenchBucket(bucket);
    await rm(dir, { recursive: true, force: true });
  }
}
