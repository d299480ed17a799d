/**
 * The few types every stage shares. Records flow one way (source → decode → map → sink); whether a
 * record arrived flows back through its `Delivery`, never through a call into an earlier stage.
 */

export type LogType = 'cloudtrail' | 'vpcflow';
export type Schema = 'ecs' | 'cim';

/** Where a record came from, precise enough for an operator to find it: object and position. */
/**
 * A flow record's fields: AWS's hyphenated names (`srcaddr`, `tcp-flags`) → value. Every field of the
 * object's layout is a key; one AWS wrote as `-` (absent) holds `undefined`.
 */
export type FlowFields = Record<string, string | undefined>;

export interface RecordOrigin {
  /** S3 bucket, absent for local files. */
  bucket?: string;
  /** S3 key or local path. */
  key: string;
  /** 1-based position of the record in the object (CloudTrail record number; flow line number). */
  record: number;
}

/** A raw record as decoded from an object, before mapping. */
export type RawRecord =
  | {
      logType: 'cloudtrail';
      origin: RecordOrigin;
      event: Record<string, unknown>;
      /**
       * The record's JSON text as it was in the object, when the decoder has it: a sink that forwards the
       * original record (HEC) sends these bytes instead of serialising `event` again.
       */
      text?: string;
    }
  | {
      logType: 'vpcflow';
      origin: RecordOrigin;
      fields: FlowFields;
      /** The original line, as AWS wrote it. */
      line: string;
      /**
       * The field names of the line's format, in the line's order (its header, a known layout, the Parquet
       * columns): one shared array per format. When absent, the order of `fields`' keys is taken.
       */
      layout?: readonly string[];
    };

/** A record that could not be decoded or mapped; it goes to the dead letter with this reason. */
export interface RejectedRecord {
  origin: RecordOrigin;
  /** Stable code, e.g. DECODE_INVALID_JSON, DECODE_FLOW_FIELD_COUNT, MAP_FAILED, SINK_REJECTED. */
  code: string;
  reason: string;
  /** The record's text (or as much of it as is known), so nothing is lost. */
  raw?: string;
  field?: string;
}

/** Settles one record at one sink. Exactly one of the three is called, once. */
export interface Delivery {
  /** The sink holds the record durably (HEC 200 / acked, search item created or already present). */
  ack(): void;
  /**
   * The sink will never take this record (invalid for it); it goes to the dead letter with the reason and,
   * when the sink has it, the document as it was sent (sinks keep only that text, not the document).
   */
  reject(reason: string, code: string, sent?: string): void;
  /** Delivery failed for now (sink down past its retry budget); the source object is left for redelivery. */
  fail(error: Error): void;
}

/** A mapped document on its way to one sink. */
/** What a sink keeps of a record once it has serialised the document: enough to settle and to report it. */
export type SentRecord = Omit<SinkRecord, 'doc'>;

export interface SinkRecord<D = unknown> {
  /** Deterministic id (CloudTrail eventID; flows: hash of object key and line), so resends are harmless. */
  id: string;
  logType: LogType;
  doc: D;
  origin: RecordOrigin;
  delivery: Delivery;
  /** The AWS account whose log the record is (map/account.ts), for per-account indexes and streams. */
  account?: string | undefined;
}

export interface Sink<D = unknown> {
  readonly name: string;
  readonly schema: Schema;
  /** The log types it takes; every one when absent (`sinks.*.logTypes`). */
  readonly logTypes?: readonly LogType[] | undefined;
  /** Takes one record; resolves once it is buffered, waiting while the sink is full (back-pressure). */
  write(record: SinkRecord<D>): Promise<void>;
  /** Sends everything buffered and waits until every record written so far is settled. */
  flush(): Promise<void>;
  /**
   * The source has nothing more to add for the moment: send what is buffered soon (after the sink's short
   * idle age) rather than when the batch is full or old. Does not wait for it to settle. Optional (sinks
   * that do not batch).
   */
  sendNow?(): void;
  /** Flushes, then releases connections and timers. */
  close(): Promise<void>;
  /** Throws when the sink's endpoint cannot be reached; backs /readyz. Optional. */
  check?(): Promise<void>;
}
