// What integration tests import: where the running test services are, and how to read what they received.
import { readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { displayPath, stateFile } from './paths.js';
import type { ServicesState } from './state.js';

export interface ServiceEndpoints {
  moto: { url: string };
  opensearch: { url: string };
  hec: { url: string; token: string; outputFile: string };
}

/** Reads the running services from the state file written by `npm run services -- up` (or vitest's global setup). */
export function serviceEndpoints(): ServiceEndpoints {
  let state: ServicesState;
  try {
    state = JSON.parse(readFileSync(stateFile, 'utf8')) as ServicesState;
  } catch (error) {
    throw new Error(
      `test services are not up (${displayPath(stateFile)}: ${(error as Error).message}); run 'npm run services -- up'`,
    );
  }
  const { moto, opensearch, hec } = state.services;
  const missing = [!moto && 'moto', !opensearch && 'opensearch', !hec && 'hec'].filter(Boolean);
  if (!moto || !opensearch || !hec?.outputFile) {
    throw new Error(`test services not up: ${missing.join(', ')}; run 'npm run services -- up'`);
  }
  return {
    moto: { url: moto.url },
    opensearch: { url: opensearch.url },
    hec: { url: hec.url, token: state.hecToken, outputFile: hec.outputFile },
  };
}

/** Wipes all moto state (buckets, queues, IAM, ...) so a test starts from an empty account. */
export async function resetMoto(url = serviceEndpoints().moto.url): Promise<void> {
  const response = await fetch(`${url}/moto-api/reset`, { method: 'POST' });
  if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status} ${await response.text()}`);
}

/** An event as the HEC receiver accepted it, rebuilt from the collector's OTLP-JSON output. */
export interface HecEvent {
  event: unknown;
  /** Seconds since the epoch, as sent in the HEC `time` field (undefined when none was sent). */
  time?: number;
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
  /** Indexed fields (HEC `fields`). */
  fields: Record<string, unknown>;
  /** Byte offset just past the output line that held this event; pass it as sinceOffset to read only later ones. */
  endOffset: number;
}

// The receiver's default mapping of HEC metadata to OpenTelemetry attributes (hec_metadata_to_otel_attrs).
const metadataAttributes = {
  'host.name': 'host',
  'com.splunk.source': 'source',
  'com.splunk.sourcetype': 'sourcetype',
  'com.splunk.index': 'index',
} as const;

interface OtlpAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: OtlpAnyValue[] };
  kvlistValue?: { values?: OtlpKeyValue[] };
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpAnyValue;
}
interface OtlpLogRecord {
  timeUnixNano?: string;
  body?: OtlpAnyValue;
  attributes?: OtlpKeyValue[];
}
interface OtlpLogsLine {
  resourceLogs?: {
    resource?: { attributes?: OtlpKeyValue[] };
    scopeLogs?: { logRecords?: OtlpLogRecord[] }[];
  }[];
}

function anyValue(value: OtlpAnyValue | undefined): unknown {
  if (!value) return null;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.bytesValue !== undefined) return value.bytesValue;
  if (value.arrayValue) return (value.arrayValue.values ?? []).map(anyValue);
  if (value.kvlistValue) return keyValues(value.kvlistValue.values);
  return null;
}

function keyValues(pairs: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const pair of pairs ?? []) result[pair.key] = anyValue(pair.value);
  return result;
}

function nanosToSeconds(nanos: string | undefined): number | undefined {
  if (!nanos || nanos === '0') return undefined;
  // The receiver turns float seconds into integer nanoseconds (1.25 -> 1249999872ns); rounding to the
  // microsecond gives back what the sender wrote.
  return Number((BigInt(nanos) + 500n) / 1000n) / 1e6;
}

/** Converts one OTLP-JSON line of the file exporter into the HEC events it carries. */
export function hecEventsFromOtlpLine(line: string, endOffset: number): HecEvent[] {
  const parsed = JSON.parse(line) as OtlpLogsLine;
  const events: HecEvent[] = [];
  for (const resourceLogs of parsed.resourceLogs ?? []) {
    const resource = keyValues(resourceLogs.resource?.attributes);
    for (const scopeLogs of resourceLogs.scopeLogs ?? []) {
      for (const record of scopeLogs.logRecords ?? []) {
        const attributes = { ...resource, ...keyValues(record.attributes) };
        const event: HecEvent = { event: anyValue(record.body), fields: {}, endOffset };
        const time = nanosToSeconds(record.timeUnixNano);
        if (time !== undefined) event.time = time;
        for (const [key, value] of Object.entries(attributes)) {
          const metadata = metadataAttributes[key as keyof typeof metadataAttributes];
          if (metadata) event[metadata] = String(value);
          else if (!(key in resource)) event.fields[key] = value;
        }
        events.push(event);
      }
    }
  }
  return events;
}

/** Current size of the HEC output file: take it before sending, then read with sinceOffset. */
export function hecOutputOffset(outputFile = serviceEndpoints().hec.outputFile): number {
  try {
    return statSync(outputFile).size;
  } catch {
    return 0;
  }
}

/** Every event the HEC receiver wrote after sinceOffset (whole lines only; a line still being written waits). */
export async function readHecEvents(
  outputFile = serviceEndpoints().hec.outputFile,
  options: { sinceOffset?: number } = {},
): Promise<HecEvent[]> {
  const start = options.sinceOffset ?? 0;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(outputFile, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  // Read in bounded chunks: the file holds everything every test (and benchmark) sent, and can grow past
  // what one string may hold.
  const events: HecEvent[] = [];
  try {
    const { size } = await handle.stat();
    const chunk = Buffer.alloc(8 * 1024 * 1024);
    let carry = Buffer.alloc(0);
    let position = start;
    while (position < size) {
      const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, size - position), position);
      if (bytesRead === 0) break;
      const data = carry.length
        ? Buffer.concat([carry, chunk.subarray(0, bytesRead)])
        : chunk.subarray(0, bytesRead);
      const lineStart = position - carry.length;
      position += bytesRead;
      let from = 0;
      for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, from)) {
        const line = data.subarray(from, nl).toString('utf8');
        from = nl + 1;
        if (line.trim() !== '') events.push(...hecEventsFromOtlpLine(line, lineStart + from));
      }
      // A partial last line waits for the next chunk, or for the writer to finish it.
      carry = Buffer.from(data.subarray(from));
    }
  } finally {
    await handle.close();
  }
  return events;
}

/**
 * Polls the output file until at least `count` events (those accepted by `match`, when given) arrived after
 * sinceOffset, and returns them; fails after timeoutMs. Other tests may write to the same receiver, so
 * prefer a `match` on something unique to the test.
 */
export async function waitForHecEvents(
  count: number,
  options: {
    outputFile?: string;
    sinceOffset?: number;
    timeoutMs?: number;
    match?: (event: HecEvent) => boolean;
  } = {},
): Promise<HecEvent[]> {
  const outputFile = options.outputFile ?? serviceEndpoints().hec.outputFile;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await readHecEvents(outputFile, { sinceOffset: options.sinceOffset ?? 0 });
    const events = options.match ? all.filter(options.match) : all;
    if (events.length >= count) return events;
    if (Date.now() >= deadline) {
      throw new Error(
        `expected ${count} HEC events${options.match ? ' matching' : ''} in ${outputFile} after offset ` +
          `${options.sinceOffset ?? 0}, found ${events.length} after ${timeoutMs}ms`,
      );
    }
    await sleep(100);
  }
}
