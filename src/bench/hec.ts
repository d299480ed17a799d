import { createRequire } from 'node:module';
import { type HecEvent, toCim } from '../map/cim/index.js';
import { createLogger } from '../observe/index.js';
import { generateCloudTrailRecords } from '../samples/index.js';
import { createHecSink, hecSinkConfigSchema } from '../sink/hec/index.js';
import type { SinkRecord } from '../types.js';
import { startBusyProxy } from './busy-proxy.js';

export interface HecBenchResult {
  name: string;
  events: number;
  /** Events the receiver confirmed (200, or acked) — a client that drops data must not look fast. */
  delivered: number;
  seconds: number;
  eventsPerSecond: number;
  /** Process CPU (user + system) per event, microseconds. */
  cpuMicrosPerEvent: number;
  requests?: number;
  wireBytes?: number;
  note?: string;
}

interface SplunkLoggingInstance {
  send(context: { message: unknown; metadata?: Record<string, unknown> }): void;
  flush(callback?: (err?: unknown) => void): void;
  error: (err: unknown, context: unknown) => void;
  eventFormatter: (message: unknown, severity: string) => unknown;
  _sendEvents: (
    context: unknown,
    callback: (err: unknown, res?: { statusCode?: number }, body?: unknown) => void,
  ) => void;
}
type SplunkLoggingCtor = new (config: Record<string, unknown>) => SplunkLoggingInstance;

// splunk-logging cannot send indexed `fields`, and the receiver's cost grows with them, so both clients
// send the same envelopes without them: the comparison is of the clients, not of the payloads.
function sampleEvents(count: number): HecEvent[] {
  const records = generateCloudTrailRecords({ seed: 7, count });
  return records.map((event, i) => ({
    ...toCim({
      logType: 'cloudtrail',
      origin: { bucket: 'bench', key: 'bench/object.json.gz', record: i + 1 },
      event,
    }),
    fields: {},
  }));
}

function measure<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number; cpuMicros: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  return run().then((value) => {
    const used = process.cpuUsage(cpu);
    return { value, seconds: (performance.now() - started) / 1000, cpuMicros: used.user + used.system };
  });
}

async function runOurs(
  url: string,
  token: string,
  events: HecEvent[],
  options: { gzip: boolean; adaptive: boolean },
): Promise<HecBenchResult> {
  const { gzip, adaptive } = options;
  // Fixed: 4 requests in flight. Adaptive: the product's default (starts at 1, finds the receiver's limit).
  const concurrency = adaptive ? {} : { maxInFlight: 4, adaptiveConcurrency: { enabled: false } };
  const sink = createHecSink(hecSinkConfigSchema.parse({ urls: [url], token, gzip, ...concurrency }), {
    logger: createLogger('silent'),
  });
  let delivered = 0;
  const { seconds, cpuMicros } = await measure(async () => {
    for (const [i, doc] of events.entries()) {
      const record: SinkRecord<HecEvent> = {
        id: String(i),
        logType: 'cloudtrail',
        doc,
        origin: { key: 'bench', record: i + 1 },
        delivery: {
          ack: () => {
            delivered++;
          },
          reject: () => {},
          fail: () => {},
        },
      };
      await sink.write(record);
    }
    await sink.flush();
  });
  const stats = sink.stats();
  await sink.close();
  return {
    name: `aws-siem-connector HEC sink (${gzip ? 'gzip' : 'no gzip'}, ${adaptive ? `adaptive, ended at ${stats.concurrencyLimit} in flight` : '4 in flight'})`,
    events: events.length,
    delivered,
    seconds,
    eventsPerSecond: events.length / seconds,
    cpuMicrosPerEvent: cpuMicros / events.length,
    requests: stats.requests,
    wireBytes: stats.bytes,
  };
}

async function runSplunkLogging(url: string, token: string, events: HecEvent[]): Promise<HecBenchResult> {
  // A development dependency: the baseline exists only where the bench is run from a checkout.
  const require = createRequire(import.meta.url);
  const { Logger } = require('splunk-logging') as { Logger: SplunkLoggingCtor };
  // Its best batching: size- and interval-driven (maxBatchCount 0, since the default of 1 posts per event);
  // and retries, which it makes only on network errors, never on an answer from Splunk such as 503.
  const logger = new Logger({
    token,
    url,
    maxBatchCount: 0,
    maxBatchSize: 1_000_000,
    batchInterval: 5_000,
    maxRetries: 3,
  });
  logger.eventFormatter = (message) => message;
  let errors = 0;
  logger.error = () => {
    errors++;
  };
  let outstanding = 0;
  let delivered = 0;
  let idle: (() => void) | undefined;
  const original = logger._sendEvents.bind(logger);
  // Counts its requests so the clock stops when the last one is answered, not when the last send() returns.
  logger._sendEvents = (context, callback) => {
    outstanding++;
    const count = String((context as { message?: unknown }).message ?? '').split('}{').length;
    original(context, (err, res, body) => {
      outstanding--;
      if (!err && res?.statusCode === 200) delivered += count;
      callback(err, res, body);
      if (outstanding === 0) idle?.();
    });
  };
  const { seconds, cpuMicros } = await measure(async () => {
    for (const ev of events) {
      logger.send({
        message: ev.event,
        metadata: {
          time: ev.time,
          source: ev.source,
          sourcetype: ev.sourcetype,
          host: ev.host,
          index: ev.index,
        },
      });
    }
    await new Promise<void>((resolve) => {
      idle = resolve;
      logger.flush();
      if (outstanding === 0) resolve();
    });
  });
  // Stop its interval timer, or the process never exits (its issue #13).
  (logger as unknown as { _disableTimer?: () => void })._disableTimer?.();
  return {
    name: 'splunk-logging 0.11 (maxBatchCount 0, maxBatchSize 1 MB, batchInterval 5 s, maxRetries 3)',
    events: events.length,
    delivered: Math.min(delivered, events.length),
    seconds,
    eventsPerSecond: events.length / seconds,
    cpuMicrosPerEvent: cpuMicros / events.length,
    ...(errors > 0 ? { note: `${errors} batch errors reported (splunk-logging does not retry them)` } : {}),
  };
}

/** In the busy pass, every this many event posts one is refused with 503. */
const BUSY_EVERY = 4;

/**
 * Both clients again through a receiver that refuses one event post in `BUSY_EVERY` with 503, as a loaded
 * indexer does: throughput that loses the refused batches is not throughput. The proxy runs in this
 * process, so these rows' CPU includes it.
 */
async function busyPass(url: string, token: string, events: HecEvent[]): Promise<HecBenchResult[]> {
  const rows: HecBenchResult[] = [];
  for (const run of [
    (target: string) => runSplunkLogging(target, token, events),
    (target: string) => runOurs(target, token, events, { gzip: true, adaptive: true }),
  ]) {
    const proxy = await startBusyProxy(url, BUSY_EVERY);
    try {
      const row = await run(proxy.url);
      const refused = `${proxy.refused()} event posts refused with 503`;
      rows.push({
        ...row,
        name: `${row.name}, receiver busy (503 for 1 post in ${BUSY_EVERY})`,
        note: row.note ? `${refused}; ${row.note}` : refused,
      });
    } finally {
      await proxy.close();
    }
  }
  return rows;
}

/**
 * The same generated CloudTrail envelopes through our HEC sink and through splunk-logging with its best
 * batching settings, into the same receiver, one after the other in one process; then both through a
 * receiver that is busy now and then.
 */
export async function benchHec(options: {
  url: string;
  token: string;
  events: number;
}): Promise<HecBenchResult[]> {
  const events = sampleEvents(options.events);
  // Each client once, untimed, on a slice: the figures are of warmed code, not of the JIT compiling it.
  const warmUp = events.slice(0, Math.min(1_000, events.length));
  await runSplunkLogging(options.url, options.token, warmUp).catch(() => undefined);
  await runOurs(options.url, options.token, warmUp, { gzip: true, adaptive: false });
  await runOurs(options.url, options.token, warmUp, { gzip: false, adaptive: true });
  const results: HecBenchResult[] = [];
  try {
    results.push(await runSplunkLogging(options.url, options.token, events));
  } catch (err) {
    results.push({
      name: 'splunk-logging',
      events: 0,
      delivered: 0,
      seconds: 0,
      eventsPerSecond: 0,
      cpuMicrosPerEvent: 0,
      note: `not run: ${(err as Error).message}`,
    });
  }
  results.push(await runOurs(options.url, options.token, events, { gzip: true, adaptive: false }));
  results.push(await runOurs(options.url, options.token, events, { gzip: false, adaptive: false }));
  results.push(await runOurs(options.url, options.token, events, { gzip: true, adaptive: true }));
  results.push(...(await busyPass(options.url, options.token, events)));
  return results;
}
