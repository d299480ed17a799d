import type { LogType, RawRecord, RecordOrigin, RejectedRecord } from '../types.js';
import { isLogEventsStream, type LogEvent, LogEventsDecoder } from './cloudwatch.js';
import { DECODE_CODES, DEFAULT_DECODE_LIMITS, type DecodeLimits, MAX_RAW_KEPT } from './codes.js';
import { decompress, type StreamFault, sniffContainer } from './compression.js';
import { detectLogType, headText } from './detect-type.js';
import { cloudTrailOfEventBridge } from './eventbridge.js';
import { JsonRecordSplitter } from './json-splitter.js';
import { cloudTrailOfOcsf, isOcsfEvent } from './ocsf.js';
import { flowOfOcsf, isOcsfFlow } from './ocsf-flow.js';
import { decodeParquet } from './parquet.js';
import type { FlowLayouts } from './tables.js';
import { FlowLineDecoder } from './vpcflow.js';

export type DecodeResult =
  | { kind: 'record'; record: RawRecord }
  | { kind: 'rejected'; rejected: RejectedRecord }
  | { kind: 'skipped'; reason: 'digest' | 'empty' | 'unknown-type'; origin: RecordOrigin };

export interface DecodeOptions {
  origin: { bucket?: string; key: string };
  logType?: LogType | 'auto';
  limits?: Partial<DecodeLimits>;
  /** Layouts for flow lines without a header (default: AWS's and Elastic's known ones). */
  flowLayouts?: FlowLayouts;
}

/**
 * The most decompressed text the decoders take at once. A decoder parses every record of what it is given
 * before the first is handed on, and those records then wait while the other objects in flight take their
 * turn: from 64 KiB of text (the decompressor's chunk) enough of them outlived V8's young-generation
 * collections to be copied and promoted (some 520 KB per scavenge), and under `run`'s capped heap that cost
 * 16-21 % of the CPU per record. From 16 KiB, 50 KB per scavenge (docs/performance.md).
 */
const DECODE_PIECE_BYTES = 16 * 1024;

/** Decompressed text in pieces of at most DECODE_PIECE_BYTES, without copying. */
async function* piecesOf(text: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of text) {
    if (chunk.length <= DECODE_PIECE_BYTES) yield chunk;
    else
      for (let start = 0; start < chunk.length; start += DECODE_PIECE_BYTES)
        yield chunk.subarray(start, start + DECODE_PIECE_BYTES);
  }
}

/**
 * Decodes one object (S3 body or local file) into raw records, streaming: compression by magic bytes,
 * CloudTrail split record by record, VPC flow logs line by line (Parquet read in batches), CloudWatch Logs
 * subscription envelopes log event by log event. Bad records
 * become `rejected` results in order, between the good ones; nothing is dropped silently. Only errors of
 * the source stream itself are thrown, so the caller can retry the whole object. A consumer that stops
 * early (breaks out of its loop) closes the source and the decompressor with it.
 */
export async function* decodeObject(
  body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
  options: DecodeOptions,
): AsyncGenerator<DecodeResult> {
  const limits: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...options.limits };
  const { bucket, key } = options.origin;
  // Literals rather than a spread of the object's location: one origin per record, and V8 builds a
  // spread's copy on a slow path (about 1 µs per flow line).
  const at = (record: number): RecordOrigin =>
    bucket === undefined ? { key, record } : { bucket, key, record };

  const input = (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  // The decompressed text, once started; closed with the source when decoding stops early.
  let textRest: AsyncIterableIterator<Uint8Array> | undefined;
  try {
    const { head, rest } = await peek(input, 4);
    if (head.length === 0) {
      yield { kind: 'skipped', reason: 'empty', origin: at(0) };
      return;
    }
    const container = sniffContainer(head);
    const fault: { value?: StreamFault } = {};

    if (container === 'parquet') {
      const release = await parquetTurn();
      try {
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
        // What the caller or, failing that, the key says the object holds: Parquet says nothing of it.
        const expected =
          options.logType === undefined || options.logType === 'auto' ? detectLogType(key) : options.logType;
        for await (const event of decodeParquet(bytes, expected === 'digest' ? undefined : expected)) {
          count++;
          yield event.kind === 'ocsf' ? ocsfResult(event.value, event.index, at) : flowResult(event, at);
        }
        if (count === 0) yield { kind: 'skipped', reason: 'empty', origin: at(0) };
        return;
      } finally {
        release();
      }
    }

    const text = container === 'plain' ? rest : decompress(rest, container, fault);
    const peeked = await peek(text[Symbol.asyncIterator](), 512);
    const textHead = peeked.head;
    textRest = peeked.rest;
    const byKey = detectLogType(key, textHead);
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
      // Blank space (and a BOM) says nothing about the type: an object of only that is empty, like 0 bytes.
      const blank = await onlyBlank(textRest);
      if (fault.value) yield rejected(at(1), fault.value.code, fault.value.reason);
      else yield { kind: 'skipped', reason: blank ? 'empty' : 'unknown-type', origin: at(0) };
      return;
    }

    let produced = 0;
    if (isLogEventsStream(headText(textHead))) {
      const logEvents = new LogEventsDecoder(logType, limits, options.flowLayouts);
      const results = (events: LogEvent[]): DecodeResult[] =>
        events.map((e) => {
          produced++;
          if (e.kind === 'flow') return flowResult(e.event, at);
          if (e.kind === 'error') return rejected(at(e.index), e.code, e.reason, e.raw);
          return {
            kind: 'record',
            record: { logType: 'cloudtrail', origin: at(e.index), event: e.value, text: e.text },
          };
        });
      for await (const piece of piecesOf(textRest))
        for (const result of results(logEvents.push(piece))) yield result;
      for (const result of results(logEvents.end(fault.value))) yield result;
      if (produced === 0) yield { kind: 'skipped', reason: 'empty', origin: at(0) };
      return;
    }
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
          if (e.kind === 'error') {
            out.push(rejected(at(e.index), e.code, e.reason, e.raw));
            continue;
          }
          // An EventBridge event carries the record as its detail, whose own text is not at hand; an OCSF
          // event is turned back into the record it was made from.
          const detail = cloudTrailOfEventBridge(e.value);
          if (!detail && isOcsfEvent(e.value)) {
            out.push(ocsfResult(e.value, e.index, at));
            continue;
          }
          out.push({
            kind: 'record',
            record: detail
              ? { logType: 'cloudtrail', origin: at(e.index), event: detail }
              : { logType: 'cloudtrail', origin: at(e.index), event: e.value, text: e.text },
          });
        }
        return out;
      };
      for await (const piece of piecesOf(textRest))
        for (const result of results(splitter.push(piece))) yield result;
      for (const result of results(splitter.end(fault.value))) yield result;
      if (produced === 0) yield { kind: 'skipped', reason: digest ? 'digest' : 'empty', origin: at(0) };
      return;
    }

    const lines = new FlowLineDecoder(limits, options.flowLayouts);
    for await (const piece of piecesOf(textRest)) {
      for (const e of lines.push(piece)) {
        produced++;
        yield flowResult(e, at);
      }
    }
    for (const e of lines.end(fault.value)) {
      produced++;
      yield flowResult(e, at);
    }
    if (produced === 0) yield { kind: 'skipped', reason: 'empty', origin: at(0) };
  } finally {
    // Reached also when the consumer stops early (breaks out of its loop): the decompressor and the source
    // (an S3 body or a file stream) must not stay open until they time out.
    // A failure to close must not hide the error that ended decoding, if any.
    if (textRest) await Promise.resolve(textRest.return?.()).catch(() => undefined);
    closeSource(body, input);
  }
}

let parquetQueue: Promise<void> = Promise.resolve();

/**
 * Waits for this object's turn to hold a Parquet object; the returned function ends the turn. A Parquet
 * object is held in memory whole while it is decoded (up to maxParquetBytes), so only one is, however
 * many objects are in flight: memory stays bounded by the limit, not by the limit times the objects.
 */
async function parquetTurn(): Promise<() => void> {
  const before = parquetQueue;
  let release!: () => void;
  parquetQueue = new Promise<void>((resolve) => {
    release = resolve;
  });
  await before;
  return release;
}

/**
 * Ends the source: `return()` per the iteration protocol (a Node stream's iterator then destroys the
 * stream), not awaited, because it waits behind a read still pending (the gzip feed may be waiting for the
 * next bytes from S3); a stream not yet at its end is also destroyed directly, which ends such a read.
 */
function closeSource(body: unknown, input: AsyncIterator<unknown>): void {
  Promise.resolve()
    .then(() => input.return?.())
    .catch(() => undefined);
  const stream = body as { destroy?: unknown; destroyed?: boolean; readableEnded?: boolean };
  if (typeof stream.destroy === 'function' && !stream.destroyed && !stream.readableEnded) {
    (stream as { destroy(): void }).destroy();
  }
}

function flowResult(e: import('./vpcflow.js').FlowEvent, at: (record: number) => RecordOrigin): DecodeResult {
  if (e.kind === 'record') {
    return {
      kind: 'record',
      record: { logType: 'vpcflow', origin: at(e.index), fields: e.fields, line: e.line, layout: e.layout },
    };
  }
  return rejected(at(e.index), e.code, e.reason, e.raw);
}

/** An OCSF event as the record it was made from (a trail's or a flow log's), or refused naming why. */
function ocsfResult(
  value: Record<string, unknown>,
  index: number,
  at: (record: number) => RecordOrigin,
): DecodeResult {
  if (isOcsfFlow(value)) return flowResult(flowOfOcsf(value, index), at);
  const origin = at(index);
  const outcome = cloudTrailOfOcsf(value);
  if (outcome.kind === 'cloudtrail')
    return { kind: 'record', record: { logType: 'cloudtrail', origin, event: outcome.record } };
  const raw = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v));
  return {
    kind: 'rejected',
    rejected: {
      origin,
      code: DECODE_CODES.ocsfUnsupported,
      reason: outcome.reason,
      field: outcome.field,
      raw: raw.length > MAX_RAW_KEPT ? raw.slice(0, MAX_RAW_KEPT) : raw,
    },
  };
}

function rejected(origin: RecordOrigin, code: string, reason: string, raw?: string): DecodeResult {
  return {
    kind: 'rejected',
    rejected: raw === undefined ? { origin, code, reason } : { origin, code, reason, raw },
  };
}

/**
 * Reads at least `n` bytes (fewer only at the end) and returns them plus an iterator that replays them and
 * goes on with the source. Its `return()` is forwarded to the source, so stopping early closes it.
 */
async function peek(
  source: AsyncIterator<Uint8Array | string>,
  n: number,
): Promise<{ head: Uint8Array; rest: AsyncIterableIterator<Uint8Array> }> {
  const taken: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const next = await source.next();
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
  let replay: Uint8Array | undefined = head.length > 0 ? head : undefined;
  const end: IteratorResult<Uint8Array> = { done: true, value: undefined };
  const rest: AsyncIterableIterator<Uint8Array> = {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (replay) {
        const value = replay;
        replay = undefined;
        return { done: false, value };
      }
      if (done) return end;
      const next = await source.next();
      if (next.done) {
        done = true;
        return end;
      }
      return { done: false, value: typeof next.value === 'string' ? Buffer.from(next.value) : next.value };
    },
    async return() {
      replay = undefined;
      done = true;
      await source.return?.();
      return end;
    },
  };
  return { head, rest };
}

/** Whether the bytes are only blank space (and, at the start of the object, a BOM). */
function isBlank(bytes: Uint8Array, atStart: boolean): boolean {
  let i = atStart && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (; i < bytes.length; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}

/** Whether the text from its start is only blank space, read one chunk at a time (memory stays bounded). */
async function onlyBlank(text: AsyncIterator<Uint8Array>): Promise<boolean> {
  for (let first = true; ; first = false) {
    const next = await text.next();
    if (next.done) return true;
    if (!isBlank(next.value, first)) return false;
  }
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
