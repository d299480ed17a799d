import { decodeObject, type FlowLayouts, OBJECT_LEVEL_CODES } from '../decode/index.js';
import { errorMessage } from '../errors.js';
import { recordAccount } from '../map/account.js';
import type { Logger, Metrics } from '../observe/index.js';
import type { LogType, RawRecord, Schema, Sink } from '../types.js';
import type { DeadLetter } from './dead-letter.js';
import type { DropFilter } from './drop.js';
import { type ObjectOutcome, ObjectTracker } from './tracker.js';

/** Record → document for each schema a sink may want, and the record's deterministic id. */
export interface Mappers {
  id(record: RawRecord): string;
  ecs(record: RawRecord): Record<string, unknown>;
  cim(record: RawRecord): unknown;
}

/** Sees every record in the stream that mapped, with its id (in-stream detection). */
export type RecordObserver = (record: RawRecord, id: string) => void;

/**
 * Counts the objects being decoded. When the last one finishes, every sink is asked to send what it holds
 * soon: the records buffered then belong to objects that wait for them, and nothing more will join the
 * batch until new work arrives, so waiting for the full batch age would only add latency.
 */
export class DecodeActivity {
  #objects = 0;

  constructor(private readonly sinks: readonly Sink[]) {}

  start(): void {
    this.#objects++;
  }

  finish(): void {
    this.#objects--;
    if (this.#objects === 0) for (const sink of this.sinks) sink.sendNow?.();
  }
}

export interface ObjectPipeline {
  sinks: readonly Sink[];
  /** Sends batches early when no object is being decoded; without it, batches wait for size or age. */
  activity?: DecodeActivity | undefined;
  deadLetter: DeadLetter;
  mappers: Mappers;
  metrics: Metrics;
  log: Logger;
  observe?: RecordObserver | undefined;
  /** Layouts for header-less flow lines, the configured formats among them (`pipeline.flowFormats`). */
  flowLayouts?: FlowLayouts | undefined;
  /** Largest Parquet object read whole (`pipeline.maxParquetMiB`); the decoder's default otherwise. */
  maxParquetBytes?: number | undefined;
  /** Records not to ship (`pipeline.drop`); undefined when none are configured. */
  drop?: DropFilter | undefined;
}

export interface ProcessObjectOptions {
  origin: { bucket?: string; key: string };
  logType?: LogType | 'auto' | undefined;
}

/** The sinks that take a log type, and the documents they need made. */
interface SinkRoute {
  sinks: readonly Sink[];
  ecs: boolean;
  cim: boolean;
}

function sinkRoute(sinks: readonly Sink[], type: LogType): SinkRoute {
  const taking = sinks.filter((s) => s.logTypes === undefined || s.logTypes.includes(type));
  return {
    sinks: taking,
    ecs: taking.some((s) => s.schema === 'ecs'),
    cim: taking.some((s) => s.schema === 'cim'),
  };
}

/** Decodes one object, maps each record once per schema, and hands it to every sink that takes its type. */
export async function processObject(
  body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
  pipeline: ObjectPipeline,
  options: ProcessObjectOptions,
): Promise<ObjectOutcome & { logType?: LogType }> {
  const { sinks, mappers, metrics, log } = pipeline;
  const tracker = new ObjectTracker(
    pipeline.deadLetter,
    (sink, outcome) => metrics.sinkRecords.inc({ sink, outcome }),
    (code) => metrics.deadLetters.inc({ code }),
  );
  const routes = new Map<LogType, SinkRoute>();
  const routeOf = (type: LogType): SinkRoute => {
    let route = routes.get(type);
    if (!route) {
      route = sinkRoute(sinks, type);
      routes.set(type, route);
    }
    return route;
  };
  let logType: LogType | undefined;
  /** Sinks whose write threw for this object: logged once per object, not once per record. */
  const failedSinks = new Set<string>();

  pipeline.activity?.start();
  try {
    for await (const result of decodeObject(body, {
      origin: options.origin,
      logType: options.logType ?? 'auto',
      ...(pipeline.flowLayouts ? { flowLayouts: pipeline.flowLayouts } : {}),
      ...(pipeline.maxParquetBytes ? { limits: { maxParquetBytes: pipeline.maxParquetBytes } } : {}),
    })) {
      // A new flow-log version or a mapping conflict rejects every record: decoding waits while the dead
      // letter holds more than its bound, so rejected records wait in the object, not in memory. This
      // also paces records the sinks refuse, which arrive without a chance to wait.
      const room = pipeline.deadLetter.whenRoom?.();
      if (room) await room;
      if (result.kind === 'skipped') {
        metrics.recordsSkipped.inc({ reason: result.reason });
        continue;
      }
      if (result.kind === 'rejected') {
        const { rejected } = result;
        if (OBJECT_LEVEL_CODES.has(rejected.code)) {
          log.error(
            { code: rejected.code, origin: rejected.origin },
            `object cannot be read to the end: ${rejected.reason}`,
          );
          tracker.fail(new Error(`${rejected.code}: ${rejected.reason}`));
        } else {
          log.warn({ code: rejected.code, origin: rejected.origin, field: rejected.field }, rejected.reason);
          tracker.reject(rejected);
        }
        continue;
      }

      const record = result.record;
      logType = record.logType;
      tracker.countRecord();
      metrics.records.inc({ log_type: record.logType });
      const dropped = pipeline.drop?.(record);
      if (dropped !== undefined) {
        metrics.recordsDropped.inc({ log_type: record.logType, filter: dropped });
        continue;
      }
      const route = routeOf(record.logType);
      const account = recordAccount(record);
      let id: string;
      const docs: Partial<Record<Schema, unknown>> = {};
      try {
        id = mappers.id(record);
        if (route.ecs) docs.ecs = mappers.ecs(record);
        if (route.cim) docs.cim = mappers.cim(record);
      } catch (err) {
        tracker.reject({
          code: 'MAP_FAILED',
          reason: errorMessage(err),
          origin: record.origin,
          raw: record.logType === 'vpcflow' ? record.line : JSON.stringify(record.event),
        });
        continue;
      }
      pipeline.observe?.(record, id);
      for (const sink of route.sinks) {
        const delivery = tracker.delivery(sink.name, record.origin);
        try {
          await sink.write({
            id,
            logType: record.logType,
            doc: docs[sink.schema],
            origin: record.origin,
            delivery,
            account,
          });
        } catch (err) {
          // A sink that refuses the record outright (closed, broken) may not settle it; unsettled, the
          // object would never finish and its message never come back. A delivery settles once, so this
          // is a no-op when the sink settled it before throwing.
          const error = err instanceof Error ? err : new Error(String(err));
          if (!failedSinks.has(sink.name)) {
            failedSinks.add(sink.name);
            log.error(
              { sink: sink.name, origin: options.origin, err: error.message },
              'sink refused a record; the object will be retried',
            );
          }
          delivery.fail(error);
        }
      }
    }
  } catch (err) {
    // The stream itself failed (network, S3 reset): what was written is delivered, the object is retried.
    log.error({ origin: options.origin, err: errorMessage(err) }, 'reading the object failed');
    tracker.fail(err instanceof Error ? err : new Error(String(err)));
  } finally {
    pipeline.activity?.finish();
  }
  const outcome = await tracker.seal();
  return logType ? { ...outcome, logType } : outcome;
}
