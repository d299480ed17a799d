import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../timeout.js';
import { cloudTrailKey, createBenchBucket, putObjects, queueDepth, removeBenchBucket } from './aws.js';
import { cloudTrailObject } from './objects.js';
import { type BenchServices, benchSinkConfig, consumerConfig, round } from './pipeline.js';
import { searchAdmin } from './search-admin.js';

export interface ScaleOutResult {
  processes: number;
  objects: number;
  records: number;
  /** From the first object put (every consumer already polling) until every record is in the index and the queue is empty. */
  seconds: number;
  recordsPerSecond: number;
  mibPerSecond: number;
  /** Documents in the index afterwards, and how many distinct ids they have. */
  docs: number;
  distinctIds: number;
  /** Records of the objects that never reached the index. */
  lost: number;
  /** Documents beyond one per id. */
  doubled: number;
  /** Records decoded across all processes (above `records` when a message was delivered twice). */
  decodedByConsumers: number;
  /** Each process's share of the records it decoded. */
  perProcess: number[];
  /** Each process's peak resident set size (Linux; absent elsewhere). */
  peakRssBytes?: number[];
}

/** How to start this package's CLI in a child process: the built file, or the source through tsx. */
export function cliCommand(): { command: string; args: string[] } {
  const built = fileURLToPath(new URL('../bin.js', import.meta.url));
  if (existsSync(built)) return { command: process.execPath, args: [built] };
  const source = fileURLToPath(new URL('../bin.ts', import.meta.url));
  return { command: process.execPath, args: ['--import', import.meta.resolve('tsx'), source] };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Consumer {
  child: ChildProcess;
  port: number;
  started: Promise<void>;
  exited: Promise<number | null>;
  tail: string[];
}

/** SIGTERM, then the consumer's own grace to stop, then SIGKILL: a bench run never leaves one behind. */
export async function stopConsumer(consumer: Consumer): Promise<void> {
  const { child } = consumer;
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const stopped = await withTimeout(
    consumer.exited.then(() => true),
    15_000,
    false,
  );
  if (!stopped) child.kill('SIGKILL');
}

export function spawnRunConsumer(configFile: string, port: number, env: NodeJS.ProcessEnv): Consumer {
  const { command, args } = cliCommand();
  const child = spawn(command, [...args, 'run', '--config', configFile], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tail: string[] = [];
  let buffered = '';
  const started = new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        if (line.includes('"consumer started"')) resolve();
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`consumer exited (${code}) before starting:\n${tail.join('\n')}`)),
    );
  });
  started.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, port, started, exited, tail };
}

/** The children read only their config file: ASC_* variables of this shell would add to it. */
export function childEnv(region: string): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ASC_')));
  return {
    ...inherited,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'bench',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'bench',
    AWS_REGION: region,
  };
}

/**
 * Peak memory of a live process and of the processes it started (Linux /proc): `run` may be a launcher
 * with the consumer as its child (see src/launcher.ts). The largest peak (VmHWM) among them, plus the
 * private memory (RssAnon + RssShmem) of the others: their file-backed pages are the node binary and
 * libraries the largest maps too, one copy in memory, counted once as a container's memory accounting
 * counts it (summing whole RSS would count some 36 MiB twice). Undefined where /proc is not available.
 */
export async function peakRssOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const tree = await memoryOfTree(pid);
  if (tree.length === 0) return undefined;
  const largest = tree.reduce((a, b) => (b.peak > a.peak ? b : a));
  return tree.reduce((total, p) => (p === largest ? total : total + p.private), largest.peak);
}

interface ProcessMemory {
  /** VmHWM in bytes. */
  peak: number;
  /** RssAnon + RssShmem in bytes, now. */
  private: number;
}

async function memoryOfTree(pid: number): Promise<ProcessMemory[]> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch {
    return [];
  }
  const kb = (field: string) =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  const peak = kb('VmHWM');
  if (Number.isNaN(peak)) return [];
  const own = { peak, private: (kb('RssAnon') || 0) + (kb('RssShmem') || 0) };
  const below = await Promise.all((await childrenOf(pid)).map(memoryOfTree));
  return [own, ...below.flat()];
}

/** The processes a process started (none when it has ended or /proc does not say). */
export async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

/**
 * CPU time (user + system) a live process and the processes it started have used so far, in seconds
 * (Linux /proc/<pid>/stat, in the kernel's fixed 100 ticks per second). Undefined where /proc is not
 * available.
 */
export async function cpuSecondsOf(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), from the third: utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let total = (Number(fields[11]) + Number(fields[12])) / USER_HZ;
    for (const child of await childrenOf(pid)) total += (await cpuSecondsOf(child)) ?? 0;
    return total;
  } catch {
    return undefined;
  }
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on every Linux architecture Node runs on). */
const USER_HZ = 100;

export async function scrape(port: number, name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/**
 * Competing consumers: `processes` copies of `aws-siem-connector run` (child processes, each with its own
 * config file and metrics port) on one queue, into one OpenSearch index. Measures total throughput and
 * checks that every record arrived exactly once.
 */
export async function benchScaleOut(options: {
  services: BenchServices;
  processes: number;
  objects: number;
  objectBytes: number;
  indexPrefix: string;
  seed: number;
  timeoutMs?: number;
}): Promise<ScaleOutResult> {
  const { services } = options;
  if (!services.search) throw new Error('scale-out needs a search endpoint');
  const bucket = await createBenchBucket(services.moto, `scale${options.processes}`);
  const admin = searchAdmin(services.search);
  const dir = await mkdtemp(path.join(tmpdir(), 'asc-bench-scale-'));
  const consumers: Consumer[] = [];
  try {
    const objects = await Promise.all(
      Array.from({ length: options.objects }, (_, i) =>
        cloudTrailObject(options.seed + i, options.objectBytes),
      ),
    );
    const records = objects.reduce((n, o) => n + o.records, 0);
    const decompressed = objects.reduce((n, o) => n + o.decompressedBytes, 0);
    const env = childEnv(bucket.region);
    for (let i = 0; i < options.processes; i++) {
      const port = await freePort();
      const config = consumerConfig(bucket, benchSinkConfig(services, 'search', options.indexPrefix), {
        deadLetterDir: path.join(dir, `dead-letter-${i}`),
      });
      config.observe = { metricsPort: port, logLevel: 'info' };
      const file = path.join(dir, `consumer-${i}.json`);
      await writeFile(file, JSON.stringify(config));
      consumers.push(spawnRunConsumer(file, port, env));
    }
    await Promise.all(consumers.map((c) => c.started));

    const started = performance.now();
    await putObjects(
      bucket,
      objects.map((o, i) => ({ key: cloudTrailKey(i), body: o.gz })),
      16,
    );
    const pattern = `${options.indexPrefix}-*`;
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      if ((await queueDepth(bucket)) === 0 && (await admin.count(pattern)) >= records) break;
      if (Date.now() > deadline) {
        throw new Error(
          `scale-out (${options.processes}): ${await admin.count(pattern)} of ${records} records indexed in time`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - started) / 1000;
    const perProcess = await Promise.all(consumers.map((c) => scrape(c.port, 'asc_records_total')));
    const peaks = await Promise.all(consumers.map((c) => peakRssOf(c.child.pid)));
    const docs = await admin.count(pattern);
    const distinctIds = await admin.distinctIds(pattern);
    return {
      processes: options.processes,
      objects: options.objects,
      records,
      seconds: round(seconds, 3),
      recordsPerSecond: Math.round(records / seconds),
      mibPerSecond: round(decompressed / 1024 / 1024 / seconds, 2),
      docs,
      distinctIds,
      lost: Math.max(0, records - distinctIds),
      doubled: docs - distinctIds,
      decodedByConsumers: perProcess.reduce((a, b) => a + b, 0),
      perProcess,
      ...(peaks.every((p) => p !== undefined) ? { peakRssBytes: peaks as number[] } : {}),
    };
  } finally {
    await Promise.all(consumers.map(stopConsumer));
    await admin.remove(options.indexPrefix);
    await admin.close();
    await removeBenchBucket(bucket);
    await rm(dir, { recursive: true, force: true });
  }
}
