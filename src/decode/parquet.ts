import { gunzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import type { LogType } from '../types.js';
import { DECODE_CODES } from './codes.js';
import { OCSF_MARKERS } from './ocsf.js';
import { type FlowEvent, flowRecord } from './vpcflow.js';

/** Rows decoded per batch, so the decoded form of a large Parquet object is not held all at once. */
const ROW_BATCH = 10_000;

/** A Parquet row: a flow record (or error), or an OCSF event to be read as the CloudTrail record it was. */
export type ParquetEvent = FlowEvent | { kind: 'ocsf'; index: number; value: Record<string, unknown> };

/**
 * Records of a Parquet object: VPC flow logs (AWS's Parquet delivery) or OCSF events (Amazon Security
 * Lake), told apart by their columns. The reader needs random access, so the object is held in memory
 * whole (bounded by the caller, which decodes one Parquet object at a time). Records are numbered by row
 * (1-based).
 *
 * Flow columns are named with underscores (`account_id`); they are turned back into the hyphenated field
 * names of the text format so both deliveries map the same way, and `line` is the text-format line the
 * row stands for.
 */
export async function* decodeParquet(
  bytes: Uint8Array,
  expected?: LogType | 'auto',
): AsyncGenerator<ParquetEvent> {
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
    // Top-level columns only: an OCSF object's nested structs have children of their own.
    columns = topLevelColumns(meta.schema);
  } catch (err) {
    yield invalid(1, `not a readable Parquet object (${(err as Error).message})`);
    return;
  }
  const ocsf = OCSF_MARKERS.every((c) => columns.includes(c));
  if (!ocsf && expected === 'cloudtrail') {
    yield invalid(
      1,
      'a Parquet object without OCSF columns (class_uid, metadata) cannot hold CloudTrail records',
    );
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
      yield invalid(
        start + 1,
        `rows ${start + 1}-${Math.min(rows, start + ROW_BATCH)}: unreadable Parquet data (${(err as Error).message})`,
      );
      return;
    }
    for (let r = 0; r < batch.length; r++) {
      const row = batch[r]!;
      if (ocsf) {
        yield { kind: 'ocsf', index: start + r + 1, value: row };
        continue;
      }
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

function invalid(index: number, reason: string): FlowEvent {
  return { kind: 'error', index, code: DECODE_CODES.parquetInvalid, reason };
}

/** The names of the schema's top-level fields (the schema is flattened depth-first after its root). */
function topLevelColumns(schema: { name: string; num_children?: number }[]): string[] {
  const names: string[] = [];
  let i = 1;
  const skip = (): void => {
    const children = schema[i]?.num_children ?? 0;
    i++;
    for (let c = 0; c < children; c++) skip();
  };
  while (i < schema.length) {
    names.push(schema[i]!.name);
    skip();
  }
  return names;
}

export { DECODE_CODES };
