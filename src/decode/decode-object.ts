import type { LogType, RawRecord, RecordOrigin, RejectedRecord } from '../types.js';
import { DECODE_CODES, DEFAULT_DECODE_LIMITS, type DecodeLimits } from './codes.js';
import { decompress, type StreamFault, sniffContainer } from './compression.js';
import { detectLogType } from './detect-type.js';
import { JsonRecordSplitter } from './json-splitter.js';
import { decodeParquetFlows } from './parquet.js';
import { FlowLineDecoder } from './vpcflow.js';

export type DecodeResult =
  | { kind: 'record'; record: RawRecord }
  | { kind: 'rejected'; rejected: RejectedRecord }
  | { kind: 'skipped'; reason: 'digest' | 'empty' | 'unknown-type'; origin: RecordOrigin };

export interface DecodeOptions {
  origin: { bucket?: string; key: string };
  logType?: LogType | 'auto';
  limits?: Partial<DecodeLimits>;
}

/**
 * Decodes one object (S3 body or local file) into raw records, streaming: compression by magic bytes,
 * CloudTrail split record by record, VPC flow logs line by line (Parquet read in batches). Bad records
 * become `rejected` results in order, between the good ones; nothing is dropped silently. Only errors of
 * the source stream itself are thrown, so the caller can retry the whole object.
 */
export async function* decodeObject(
  body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
  options: DecodeOptions,
): AsyncGenerator<DecodeResult> {
  const limits: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...options.limits };
  const where = {
    ...(options.origin.bucket === undefined ? {} : { bucket: options.origin.bucket }),
    key: options.origin.key,
  };
  const at = (record: number): RecordOrigin => ({ ...where, record });

  const source = body as AsyncIterable<Uint8Array>;
  const { head, rest } = await peek(source, 4);
  if (head.length === 0) {
    yield { kind: 'skipped', reason: 'empty', origin: at(0) };
    return;
  }
  const container = sniffContainer(head);
  const fault: { value?: StreamFault } = {};

  if (container === 'parquet') {
    if (options.logType === 'cloudtrail') {
      yield rejected(at(1), DECODE_CODES.parquetInvalid, 'a Parquet object cannot hold CloudTrail records');
      return;
    }
    const bytes = await readBounded(rest, limits.maxParquetBytes);
    if (bytes === undefined) {
      yield rejected(
        at(1),
        DECODE_CODES.parquetTooLarge,
        `Parquet object larger than the ${limits.maxParquetBytes}-byte limit (Parquet is read whole)`,
      );
      return;
    }
    let count = 0;
    for await (const event of decodeParquetFlows(bytes)) {
      count++;
      yield flowResult(event, at);
    }
    if (count === 0) yield { kind: 'skipped', reason: 'empty', origin: at(0) };
    return;
  }

  const text = container === 'plain' ? rest : decompress(rest, container, fault);
  const { head: textHead, rest: textRest } = await peek(text, 512);
  const byKey = detectLogType(where.key, textHead);
  if (byKey === 'digest') {
    yield { kind: 'skipped', reason: 'digest', origin: at(0) };
    return;
  }
  const logType = options.logType === undefined || options.logType === 'auto' ? byKey : options.logType;
  if (textHead.length === 0 && !fault.value) {
    yield { kind: 'skipped', reason: 'empty', origin: at(0) };
    return;
  }
  if (logType === undefined) {
    if (fault.value) yield rejected(at(1), fault.value.code, fault.value.reason);
    else yield { kind: 'skipped', reason: 'unknown-type', origin: at(0) };
    return;
  }

  let produced = 0;
  if (logType === 'cloudtrail') {
    const splitter = new JsonRecordSplitter(limits);
    let digest = false;
    // A chunk's results as an array, yielded one by one below: `yield*` of a generator from this async
    // generator costs about twice as much per record (each delegated value is awaited again).
    const results = (events: ReturnType<JsonRecordSplitter['push']>): DecodeResult[] => {
      const out: DecodeResult[] = [];
      for (const e of events) {
        if (e.kind === 'digest') {
          digest = true;
          continue;
        }
        produced++;
        out.push(
          e.kind === 'record'
            ? {
                kind: 'record',
                record: { logType: 'cloudtrail', origin: at(e.index), event: e.value, text: e.text },
              }
            : rejected(at(e.index), e.code, e.reason, e.raw),
        );
      }
      return out;
    };
    for await (const chunk of textRest) for (const result of results(splitter.push(chunk))) yield result;
    for (const result of results(splitter.end(fault.value))) yield result;
    if (produced === 0) yield { kind: 'skipped', reason: digest ? 'digest' : 'empty', origin: at(0) };
    return;
  }

  const lines = new FlowLineDecoder(limits);
  for await (const chunk of textRest) {
    for (const e of lines.push(chunk)) {
      produced++;
      yield flowResult(e, at);
    }
  }
  for (const e of lines.end(fault.value)) {
    produced++;
    yield flowResult(e, at);
  }
  if (produced === 0) yield { kind: 'skipped', reason: 'empty', origin: at(0) };
}

function flowResult(e: import('./vpcflow.js').FlowEvent, at: (record: number) => RecordOrigin): DecodeResult {
  if (e.kind === 'record') {
    return {
      kind: 'record',
      record: { logType: 'vpcflow', origin: at(e.index), fields: e.fields, line: e.line },
    };
  }
  return rejected(at(e.index), e.code, e.reason, e.raw);
}

function rejected(origin: RecordOrigin, code: string, reason: string, raw?: string): DecodeResult {
  return {
    kind: 'rejected',
    rejected: raw === undefined ? { origin, code, reason } : { origin, code, reason, raw },
  };
}

/** Reads at least `n` bytes (fewer only at the end) and returns them plus a stream that replays them. */
async function peek(
  source: AsyncIterable<Uint8Array>,
  n: number,
): Promise<{ head: Uint8Array; rest: AsyncIterable<Uint8Array> }> {
  const iterator = source[Symbol.asyncIterator]();
  const taken: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    if (chunk.length === 0) continue;
    taken.push(chunk);
    size += chunk.length;
  }
  const head = taken.length === 1 ? taken[0]! : Buffer.concat(taken);
  const rest: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      if (head.length > 0) yield head;
      if (done) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      }
    },
  };
  return { head, rest };
}

async function readBounded(source: AsyncIterable<Uint8Array>, max: number): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    if (size > max) return undefined;
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}
