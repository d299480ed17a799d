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
} as const;

export type DecodeCode = (typeof DECODE_CODES)[keyof typeof DECODE_CODES];

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
