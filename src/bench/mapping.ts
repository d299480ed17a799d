import { spawn } from 'node:child_process';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { decodeObject } from '../decode/index.js';
import { toEcs } from '../map/ecs/index.js';
import { cloudTrailObjectChunks, flowObjectChunks } from '../samples/index.js';
import type { LogType } from '../types.js';
import { cliCommand, peakRssOf } from './scale-out.js';

export interface Throughput {
  seconds: number;
  recordsPerSecond: number;
  /** Decompressed megabytes (10^6 bytes) per second. */
  mbPerSecond: number;
}

export interface MappingBenchResult {
  logType: LogType;
  decompressedBytes: number;
  compressedBytes: number;
  records: number;
  /** gunzip + JSON.parse + JSON.stringify of the same object (flows: gunzip + split + stringify). */
  floor: Throughput;
  /** decodeObject + toEcs + JSON.stringify per record. */
  mapped: Throughput;
  /** mapped time / floor time; the goal is at most 1.5. */
  ratio: number;
  /**
   * JSON.stringify of the finished ECS documents alone (no decoding, no mapping): the part of `mapped` that
   * no mapping code can remove, as long as the documents are the ones Elastic's integration writes.
   */
  serialiseOnly: Throughput;
  /** serialiseOnly time / floor time: the lowest ratio any mapper producing these documents could reach. */
  serialiseRatio: number;
  /** Peak memory of `aws-siem-connector map` streaming a large object (`largeObjectBytes`). */
  largeObject: {
    decompressedBytes: number;
    records: number;
    /** Peak resident set size of the `map` child process (0 where /proc is not available). */
    peakRssBytes: number;
  };
}

export interface MappingBenchOptions {
  cloudtrailBytes: number;
  vpcflowBytes: number;
  /** Size of the streamed object for the memory measurement; defaults to the larger of the two above. */
  largeObjectBytes?: number;
  /** Runs per measurement; the fastest counts (least disturbed by other work on the machine). */
  repeat?: number;
}

/**
 * Measures mapping side by side with its floor in one run, on the same generated objects: what the
 * connector adds on top of merely decompressing and re-serialising the data.
 */
export async function benchMapping(options: MappingBenchOptions): Promise<MappingBenchResult[]> {
  const repeat = options.repeat ?? 3;
  const large = options.largeObjectBytes ?? Math.max(options.cloudtrailBytes, options.vpcflowBytes);
  const results: MappingBenchResult[] = [];
  for (const logType of ['cloudtrail', 'vpcflow'] as const) {
    const target = logType === 'cloudtrail' ? options.cloudtrailBytes : options.vpcflowBytes;
    const text = Buffer.concat([...objectChunks(logType, target)]);
    const gz = gzipSync(text, { level: 6 });
    let floorBest = Number.POSITIVE_INFINITY;
    let mappedBest = Number.POSITIVE_INFINITY;
    let records = 0;
    // One untimed pass each: the connector is a long-running service, its steady state is what counts,
    // while the floor is native code that needs no warming.
    floor(logType, gz);
    await mapObject(logType, gz);
    for (let i = 0; i < repeat; i++) {
      floorBest = Math.min(floorBest, timed(() => floor(logType, gz)).seconds);
      const run = await timedAsync(() => mapObject(logType, gz));
      mappedBest = Math.min(mappedBest, run.seconds);
      records = run.value;
    }
    const serialiseBest = await serialiseOnly(logType, gz, repeat, records);
    const rate = (seconds: number): Throughput => ({
      seconds,
      recordsPerSecond: records / seconds,
      mbPerSecond: text.length / 1e6 / seconds,
    });
    results.push({
      logType,
      decompressedBytes: text.length,
      compressedBytes: gz.length,
      records,
      floor: rate(floorBest),
      mapped: rate(mappedBest),
      ratio: mappedBest / floorBest,
      serialiseOnly: rate(serialiseBest),
      serialiseRatio: serialiseBest / floorBest,
      largeObject: await streamLarge(logType, large),
    });
  }
  return results;
}

function objectChunks(logType: LogType, targetBytes: number): Iterable<Buffer> {
  return logType === 'cloudtrail'
    ? cloudTrailObjectChunks({ targetBytes })
    : flowObjectChunks({ targetBytes });
}

function floor(logType: LogType, gz: Buffer): number {
  const text = gunzipSync(gz).toString('utf8');
  let out = 0;
  if (logType === 'cloudtrail') {
    const parsed = JSON.parse(text) as { Records: unknown[] };
    for (const record of parsed.Records) out += JSON.stringify(record).length;
  } else {
    for (const line of text.split('\n')) out += JSON.stringify(line.split(' ')).length;
  }
  return out;
}

/**
 * Where the bench's objects are said to come from: an S3 delivery key, as in production, so documents carry
 * what the pipeline's do (aws.s3.*, log.file.path; a flow's region from its key).
 */
function benchOrigin(logType: LogType): { bucket: string; key: string } {
  const prefix = 'AWSLogs/123456789012';
  const key =
    logType === 'cloudtrail'
      ? `${prefix}/CloudTrail/us-east-1/2026/11/28/123456789012_CloudTrail_us-east-1_20261128T1000Z_bench.json.gz`
      : `${prefix}/vpcflowlogs/us-east-1/2026/11/28/123456789012_vpcflowlogs_us-east-1_fl-bench_20261128T1000Z_bench.log.gz`;
  return { bucket: 'aws-siem-connector-bench', key };
}

async function mapObject(logType: LogType, gz: Buffer): Promise<number> {
  let records = 0;
  let bytes = 0;
  const body = Readable.from(chunked(gz, 256 * 1024));
  for await (const result of decodeObject(body, { origin: benchOrigin(logType), logType })) {
    if (result.kind !== 'record') continue;
    records++;
    bytes += JSON.stringify(toEcs(result.record)).length;
  }
  if (bytes === 0 && records > 0) throw new Error('nothing serialised');
  return records;
}

/** Documents kept for the serialise-only figure: enough for a stable rate, few enough to hold in memory. */
const SERIALISE_SAMPLE = 20_000;

/** Seconds JSON.stringify takes over the object's ECS documents, from a held sample scaled to all records. */
async function serialiseOnly(logType: LogType, gz: Buffer, repeat: number, records: number): Promise<number> {
  const docs: unknown[] = [];
  const body = Readable.from(chunked(gz, 256 * 1024));
  for await (const result of decodeObject(body, { origin: benchOrigin(logType), logType })) {
    if (result.kind === 'record') docs.push(toEcs(result.record));
    if (docs.length === SERIALISE_SAMPLE) break;
  }
  if (docs.length === 0) return 0;
  let best = Number.POSITIVE_INFINITY;
  // One untimed pass, as for the mapping itself.
  for (let i = 0; i <= repeat; i++) {
    const run = timed(() => {
      let bytes = 0;
      for (const doc of docs) bytes += JSON.stringify(doc).length;
      return bytes;
    });
    if (i > 0) best = Math.min(best, run.seconds);
  }
  return (best / docs.length) * records;
}

function* chunked(buf: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

/**
 * Peak memory of the product as shipped: `aws-siem-connector map` in a child process (its own heap, default
 * settings) streams one large gzip object from stdin; its kernel high-water mark (VmHWM) is the figure.
 */
async function streamLarge(
  logType: LogType,
  targetBytes: number,
): Promise<MappingBenchResult['largeObject']> {
  const { command, args } = cliCommand();
  const child = spawn(command, [...args, 'map', '--type', logType, '--schema', 'ecs', '-'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let records = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    for (let at = chunk.indexOf(0x0a); at !== -1; at = chunk.indexOf(0x0a, at + 1)) records++;
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  // VmHWM only grows, so the last reading before the exit is the peak (to within one interval).
  let peakRss = 0;
  let done = false;
  const sampling = (async () => {
    while (!done) {
      peakRss = Math.max(peakRss, (await peakRssOf(child.pid)) ?? 0);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  let decompressed = 0;
  const source = Readable.from(
    (function* () {
      for (const chunk of objectChunks(logType, targetBytes)) {
        decompressed += chunk.length;
        yield chunk;
      }
    })(),
  ).pipe(createGzip({ level: 1 }));
  try {
    await pipeline(source, child.stdin);
    const code = await exited;
    if (code !== 0) throw new Error(`map exited ${code}: ${stderr.trim()}`);
  } finally {
    done = true;
    await sampling;
    child.kill();
  }
  return { decompressedBytes: decompressed, records, peakRssBytes: peakRss };
}

function timed<T>(fn: () => T): { seconds: number; value: T } {
  const start = performance.now();
  const value = fn();
  return { seconds: (performance.now() - start) / 1000, value };
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { seconds: (performance.now() - start) / 1000, value };
}
