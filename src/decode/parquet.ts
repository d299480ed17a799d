import { gunzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { DECODE_CODES } from './codes.js';
import { type FlowEvent, flowRecord } from './vpcflow.js';

/** Rows decoded per batch, so the decoded form of a large Parquet object is not held all at once. */
const ROW_BATCH = 10_000;

/**
 * VPC flow logs delivered as Parquet. AWS names Parquet columns with underscores (`account_id`); they are
 * turned back into the hyphenated field names of the text format so both deliveries map the same way.
 * The reader needs random access, so the object is held in memory whole (bounded by the caller, which
 * decodes one Parquet object at a time).
 * Records are numbered by row (1-based); `line` is the text-format line the row stands for.
 */
export async function* decodeParquetFlows(bytes: Uint8Array): AsyncGenerator<FlowEvent> {
  // The reader takes an ArrayBuffer; a view of exactly one (as a large Buffer.concat makes) is used as it
  // is rather than copied, which would hold the object twice.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const file = (
    whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  ) as ArrayBuffer;
  let rows: number;
  let columns: string[];
  try {
    const meta = parquetMetadata(file);
    rows = Number(meta.num_rows);
    columns = meta.schema.slice(1).map((s) => s.name);
  } catch (err) {
    yield {
      kind: 'error',
      index: 1,
      code: DECODE_CODES.parquetInvalid,
      reason: `not a readable Parquet object (${(err as Error).message})`,
    };
    return;
  }
  const names = columns.map((c) => c.replaceAll('_', '-'));
  for (let start = 0; start < rows; start += ROW_BATCH) {
    let batch: Record<string, unknown>[];
    try {
      batch = await parquetReadObjects({
        file,
        rowStart: start,
        rowEnd: Math.min(rows, start + ROW_BATCH),
        compressors: { GZIP: (input: Uint8Array) => gunzipSync(input) },
      });
    } catch (err) {
      yield {
        kind: 'error',
        index: start + 1,
        code: DECODE_CODES.parquetInvalid,
        reason: `rows ${start + 1}-${Math.min(rows, start + ROW_BATCH)}: unreadable Parquet data (${(err as Error).message})`,
      };
      return;
    }
    for (let r = 0; r < batch.length; r++) {
      const row = batch[r]!;
      const tokens: string[] = [];
      for (let c = 0; c < columns.length; c++) {
        const value = row[columns[c]!];
        tokens.push(value === null || value === undefined ? '-' : String(value));
      }
      // The same check as for text delivery (a row of an unknown version is an error).
      yield flowRecord(start + r + 1, names, tokens, tokens.join(' '), 'row');
    }
  }
}

export { DECODE_CODES };
