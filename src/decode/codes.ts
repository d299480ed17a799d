/** Stable codes for records the decoder cannot turn into raw records; each becomes a dead-letter entry. */
export const DECODE_CODES = {
  truncated: 'DECODE_TRUNCATED',
  corruptCompression: 'DECODE_CORRUPT_COMPRESSION',
  unsupportedCompression: 'DECODE_UNSUPPORTED_COMPRESSION',
  invalidJson: 'DECODE_INVALID_JSON',
  notObject: 'DECODE_NOT_OBJECT',
  recordTooLarge: 'DECODE_RECORD_TOO_LARGE',
  flowFieldCount: 'DECODE_FLOW_FIELD_COUNT',
  flowUnknownVersion: 'DECODE_FLOW_UNKNOWN_VERSION',
  parquetTooLarge: 'DECODE_PARQUET_TOO_LARGE',
  parquetInvalid: 'DECODE_PARQUET_INVALID',
  ocsfUnsupported: 'DECODE_OCSF_UNSUPPORTED',
} as const;

export type DecodeCode = (typeof DECODE_CODES)[keyof typeof DECODE_CODES];

/**
 * Codes after which nothing more of the object can be read (the stream or container is broken, or the
 * object is not decodable at all), as opposed to one bad record among good ones. The pipeline retries
 * such an object (and lets the queue's redrive policy retire it) instead of dead-lettering one record.
 */
export const OBJECT_LEVEL_CODES: ReadonlySet<string> = new Set<DecodeCode>([
  DECODE_CODES.truncated,
  DECODE_CODES.corruptCompression,
  DECODE_CODES.unsupportedCompression,
  DECODE_CODES.parquetTooLarge,
  DECODE_CODES.parquetInvalid,
]);

/** Limits that keep memory bounded by configuration, never by the size of an object. */
export interface DecodeLimits {
  /** Largest single CloudTrail record (or flow line) held in memory; larger ones are rejected. */
  maxRecordBytes: number;
  /**
   * Largest Parquet object accepted. The Parquet reader needs random access to the footer and column
   * chunks, so a Parquet object is held in memory whole; this bounds it.
   */
  maxParquetBytes: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxRecordBytes: 32 * 1024 * 1024,
  maxParquetBytes: 128 * 1024 * 1024,
};

/** How much of a rejected record's text is kept in the dead letter entry. */
export const MAX_RAW_KEPT = 64 * 1024;
