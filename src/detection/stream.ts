import { DECODE_CODES, DEFAULT_DECODE_LIMITS } from '../decode/codes.js';
import { decodeObject } from '../decode/index.js';
import { documentId, EcsMapError, toEcs } from '../map/ecs/index.js';
import type { LogType, RejectedRecord } from '../types.js';
import type { Evaluator } from './evaluate.js';
import type { Alert } from './model.js';
import { ndjsonLines } from './ndjson-lines.js';

/**
 * Runs the evaluator over one object: raw CloudTrail / flow objects (any compression the decoder knows)
 * through decode + ECS mapping, or ECS NDJSON as the `map` command writes it. Records that cannot be
 * decoded are reported, never dropped silently; the records around them are still evaluated.
 *
 * Alerts and rejected records are handed to the callbacks as they come and only counted here: an object
 * (or stdin, for the whole run) can hold any number of either, so the caller decides what to keep.
 */
export interface ObjectResult {
  /** Records evaluated. */
  records: number;
  /** Alerts handed to `onAlert`. */
  alerts: number;
  /** Records handed to `onRejected`. */
  rejected: number;
}

export interface EvaluateObjectOptions {
  /** Names the object in record ids and rejections (a path, `<stdin>`). */
  key: string;
  type: LogType | 'auto' | 'ecs';
  onAlert: (alert: Alert) => void;
  onRejected: (rejected: RejectedRecord) => void;
  /** The longest ECS NDJSON line held in memory; longer ones are rejected. The decoder's limit by default. */
  maxRecordBytes?: number;
}

export async function evaluateObject(
  evaluator: Evaluator,
  body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
  options: EvaluateObjectOptions,
): Promise<ObjectResult> {
  const result: ObjectResult = { records: 0, alerts: 0, rejected: 0 };
  const evaluate = (doc: Record<string, unknown>, id: string) => {
    result.records++;
    for (const alert of evaluator.evaluate(doc, id)) {
      result.alerts++;
      options.onAlert(alert);
    }
  };
  const reject = (rejected: RejectedRecord) => {
    result.rejected++;
    options.onRejected(rejected);
  };

  if (options.type === 'ecs') {
    const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_DECODE_LIMITS.maxRecordBytes;
    for await (const line of ndjsonLines(body as AsyncIterable<Uint8Array | string>, maxRecordBytes)) {
      const origin = { key: options.key, record: line.line };
      if ('tooLong' in line) {
        reject({
          origin,
          code: DECODE_CODES.recordTooLarge,
          reason: `line ${line.line}: longer than the ${maxRecordBytes}-byte record limit`,
          raw: line.head,
        });
        continue;
      }
      if (line.text.trim() === '') continue;
      try {
        const doc = JSON.parse(line.text) as Record<string, unknown>;
        const id =
          doc._id ?? (doc.event as { id?: unknown } | undefined)?.id ?? `${options.key}#${line.line}`;
        evaluate(doc, String(id));
      } catch (err) {
        reject({
          origin,
          code: 'DETECT_INVALID_JSON',
          reason: (err as Error).message,
          raw: line.text.slice(0, 4096),
        });
      }
    }
    return result;
  }
  for await (const decoded of decodeObject(body, { origin: { key: options.key }, logType: options.type })) {
    if (decoded.kind === 'rejected') reject(decoded.rejected);
    if (decoded.kind !== 'record') continue;
    let doc: Record<string, unknown>;
    try {
      doc = toEcs(decoded.record) as Record<string, unknown>;
    } catch (err) {
      // A record the mapper refuses (no timestamp, a non-numeric port) is reported like a decoding error;
      // the records after it are still evaluated.
      if (!(err instanceof EcsMapError)) throw err;
      reject({
        origin: decoded.record.origin,
        code: err.code,
        reason: err.message,
        field: err.field,
        raw: (decoded.record.logType === 'cloudtrail'
          ? JSON.stringify(decoded.record.event)
          : decoded.record.line
        ).slice(0, 4096),
      });
      continue;
    }
    evaluate(doc, documentId(decoded.record));
  }
  return result;
}
