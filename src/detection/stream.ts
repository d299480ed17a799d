import { decodeObject } from '../decode/index.js';
import { documentId, EcsMapError, toEcs } from '../map/ecs/index.js';
import type { LogType, RejectedRecord } from '../types.js';
import type { Evaluator } from './evaluate.js';
import type { Alert } from './model.js';

/**
 * Runs the evaluator over one object: raw CloudTrail / flow objects (any compression the decoder knows)
 * through decode + ECS mapping, or ECS NDJSON as the `map` command writes it. Records that cannot be
 * decoded are reported, never dropped silently; the records around them are still evaluated.
 */
export interface ObjectResult {
  alerts: Alert[];
  records: number;
  rejected: RejectedRecord[];
}

export async function evaluateObject(
  evaluator: Evaluator,
  body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
  options: { key: string; type: LogType | 'auto' | 'ecs'; onAlert?: (alert: Alert) => void },
): Promise<ObjectResult> {
  const alerts: Alert[] = [];
  const emit = (list: Alert[]) => {
    for (const a of list) {
      alerts.push(a);
      options.onAlert?.(a);
    }
  };
  const rejected: RejectedRecord[] = [];
  let records = 0;
  if (options.type === 'ecs') {
    let line = 0;
    let buffered = '';
    const decoder = new TextDecoder();
    const handle = (text: string) => {
      line++;
      if (text.trim() === '') return;
      try {
        const doc = JSON.parse(text) as Record<string, unknown>;
        const id = (doc._id ??
          (doc.event as { id?: unknown } | undefined)?.id ??
          `${options.key}#${line}`) as string;
        records++;
        emit(evaluator.evaluate(doc, String(id)));
      } catch (err) {
        rejected.push({
          origin: { key: options.key, record: line },
          code: 'DETECT_INVALID_JSON',
          reason: (err as Error).message,
          raw: text.slice(0, 4096),
        });
      }
    };
    for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
      buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        handle(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
      }
    }
    buffered += decoder.decode();
    if (buffered !== '') handle(buffered);
    return { alerts, records, rejected };
  }
  for await (const result of decodeObject(body, { origin: { key: options.key }, logType: options.type })) {
    if (result.kind === 'rejected') rejected.push(result.rejected);
    if (result.kind !== 'record') continue;
    let doc: Record<string, unknown>;
    try {
      doc = toEcs(result.record) as Record<string, unknown>;
    } catch (err) {
      // A record the mapper refuses (no timestamp, a non-numeric port) is reported like a decoding error;
      // the records after it are still evaluated.
      if (!(err instanceof EcsMapError)) throw err;
      rejected.push({
        origin: result.record.origin,
        code: err.code,
        reason: err.message,
        field: err.field,
        raw: (result.record.logType === 'cloudtrail'
          ? JSON.stringify(result.record.event)
          : result.record.line
        ).slice(0, 4096),
      });
      continue;
    }
    records++;
    emit(evaluator.evaluate(doc, documentId(result.record)));
  }
  return { alerts, records, rejected };
}
