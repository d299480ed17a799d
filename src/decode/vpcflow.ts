import type { FlowFields } from '../types.js';
import { DECODE_CODES, type DecodeLimits, MAX_RAW_KEPT } from './codes.js';
import { FLOW_FIELDS, FLOW_LAYOUTS, type FlowLayouts } from './tables.js';

export type FlowEvent =
  | { kind: 'record'; index: number; fields: FlowFields; line: string; layout: readonly string[] }
  | { kind: 'error'; index: number; code: string; reason: string; raw?: string };

const NAME = /^[a-z][a-z0-9-]*$/;
const MIN_VERSION = 2;
const MAX_VERSION = 8;
/**
 * The versions known, as AWS writes them: a plain decimal integer. A set lookup per record, where `Number`
 * would also take `0x5`, `2.0` or `02`.
 */
const KNOWN_VERSIONS: ReadonlySet<string> = new Set(
  Array.from({ length: MAX_VERSION - MIN_VERSION + 1 }, (_, i) => String(MIN_VERSION + i)),
);

/**
 * One decoded flow record (a text line or a Parquet row, `unit` says which), or an error when its
 * `version` is not a known one: such a record would be mapped by guesswork.
 */
export function flowRecord(
  index: number,
  layout: readonly string[],
  tokens: readonly string[],
  line: string,
  unit: 'line' | 'row',
): FlowEvent {
  const fields = flowFields(layout, tokens);
  const version = fields.version;
  if (version === undefined || KNOWN_VERSIONS.has(version))
    return { kind: 'record', index, fields, line, layout };
  return {
    kind: 'error',
    index,
    code: DECODE_CODES.flowUnknownVersion,
    reason: `${unit} ${index}: unknown flow log version "${version}" (versions ${MIN_VERSION} to ${MAX_VERSION} are known)`,
    raw: line.slice(0, MAX_RAW_KEPT),
  };
}

/**
 * Decodes VPC flow log text line by line. A header line (S3 delivery writes one) decides the field
 * order, so any custom format works; without one, the token count selects a configured format, AWS's
 * default v2 layout or one of Elastic's known layouts. `-` means absent. Lines wrapped as
 * `{"message":"..."}` are unwrapped.
 * `index` is the 1-based line number in the object (header lines count), so an operator can find it.
 */
export class FlowLineDecoder {
  private header: readonly string[] | undefined;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private carryOversize = false;
  private lineNo = 0;
  private out: FlowEvent[] = [];
  /**
   * A line of at most this many UTF-16 units is within the byte limit without counting its bytes (a unit
   * is at most 3 UTF-8 bytes), so the exact count is only needed for very long lines.
   */
  private readonly safeUnits: number;

  constructor(
    private readonly limits: Pick<DecodeLimits, 'maxRecordBytes'>,
    private readonly layouts: FlowLayouts = FLOW_LAYOUTS,
  ) {
    this.safeUnits = Math.floor(limits.maxRecordBytes / 3);
  }

  /** One whole line given as text (a CloudWatch Logs message), numbered as the next line. */
  pushLine(text: string): FlowEvent[] {
    this.out = [];
    this.line(text);
    return this.out;
  }

  push(chunk: Uint8Array): FlowEvent[] {
    this.out = [];
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    const first = buf.indexOf(0x0a);
    if (first === -1) {
      this.keep(buf, 0, buf.length);
      return this.out;
    }
    if (this.carry.length > 0 || this.carryOversize) {
      this.keep(buf, 0, first);
      this.finishCarried();
      start = first + 1;
    }
    // The complete lines of a chunk are decoded to text in one call and split there: a newline byte never
    // occurs inside a UTF-8 sequence, so cutting at the last one is safe.
    const last = buf.lastIndexOf(0x0a);
    if (last >= start) {
      const lines = buf.toString('utf8', start, last).split('\n');
      for (const line of lines) this.line(line);
      start = last + 1;
    }
    if (start < buf.length) this.keep(buf, start, buf.length);
    return this.out;
  }

  end(truncated?: { code: string; reason: string }): FlowEvent[] {
    this.out = [];
    if (this.carry.length > 0 || this.carryOversize) {
      if (truncated) {
        this.lineNo++;
        const raw = Buffer.concat(this.carry).toString('utf8');
        this.carry = [];
        this.out.push({
          kind: 'error',
          index: this.lineNo,
          code: truncated.code,
          reason: `line ${this.lineNo}: ${truncated.reason}`,
          raw: raw.slice(0, MAX_RAW_KEPT),
        });
        return this.out;
      }
      this.finishCarried();
    } else if (truncated) {
      this.out.push({
        kind: 'error',
        index: this.lineNo + 1,
        code: truncated.code,
        reason: `after line ${this.lineNo}: ${truncated.reason}`,
      });
    }
    return this.out;
  }

  private keep(buf: Buffer, from: number, to: number): void {
    if (this.carryOversize || to <= from) return;
    this.carryBytes += to - from;
    if (this.carryBytes > this.limits.maxRecordBytes) {
      this.carryOversize = true;
      return;
    }
    this.carry.push(Buffer.from(buf.subarray(from, to)));
  }

  private finishCarried(): void {
    if (this.carryOversize) {
      this.lineNo++;
      const raw = Buffer.concat(this.carry).toString('utf8').slice(0, MAX_RAW_KEPT);
      this.out.push({
        kind: 'error',
        index: this.lineNo,
        code: DECODE_CODES.recordTooLarge,
        reason: `line ${this.lineNo}: longer than the ${this.limits.maxRecordBytes}-byte record limit`,
        raw,
      });
    } else {
      this.line(Buffer.concat(this.carry).toString('utf8'));
    }
    this.carry = [];
    this.carryBytes = 0;
    this.carryOversize = false;
  }

  private line(rawLine: string): void {
    this.lineNo++;
    const index = this.lineNo;
    // The same limit as for a line carried across chunks (`keep`), so the result does not depend on where
    // the chunks happen to end.
    if (rawLine.length > this.safeUnits && Buffer.byteLength(rawLine) > this.limits.maxRecordBytes) {
      this.out.push({
        kind: 'error',
        index,
        code: DECODE_CODES.recordTooLarge,
        reason: `line ${index}: longer than the ${this.limits.maxRecordBytes}-byte record limit`,
        raw: rawLine.slice(0, MAX_RAW_KEPT),
      });
      return;
    }
    let text = rawLine;
    if (index === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    // AWS writes lines without surrounding blanks; trim only when there is something to trim (incl. CR).
    if (text.charCodeAt(0) <= 0x20 || text.charCodeAt(text.length - 1) <= 0x20) text = text.trim();
    if (text === '') return;
    if (text.charCodeAt(0) === 0x7b) {
      const unwrapped = unwrapMessage(text);
      if (unwrapped === undefined) {
        this.out.push({
          kind: 'error',
          index,
          code: DECODE_CODES.invalidJson,
          reason: `line ${index}: a JSON-wrapped flow record must be an object with a string "message" field`,
          raw: text.slice(0, MAX_RAW_KEPT),
        });
        return;
      }
      text = unwrapped.trim();
    }
    const tokens = text.split(' ');
    if (isHeader(tokens)) {
      this.header = tokens;
      return;
    }
    let names = this.header;
    if (names === undefined) {
      const layout = this.layouts.get(tokens.length);
      if (!layout) {
        this.out.push({
          kind: 'error',
          index,
          code: DECODE_CODES.flowFieldCount,
          reason: `line ${index}: ${tokens.length} fields and no header line; no known flow log layout has ${tokens.length} fields`,
          raw: text.slice(0, MAX_RAW_KEPT),
        });
        return;
      }
      names = layout.fields;
    } else if (tokens.length !== names.length) {
      this.out.push({
        kind: 'error',
        index,
        code: DECODE_CODES.flowFieldCount,
        reason: `line ${index}: ${tokens.length} fields, the header names ${names.length}`,
        raw: text.slice(0, MAX_RAW_KEPT),
      });
      return;
    }
    this.out.push(flowRecord(index, names, tokens, text, 'line'));
  }
}

const templates = new WeakMap<readonly string[], FlowFields>();

/**
 * The fields of one record, `tokens` in the order of `names` (a header line, a known layout, Parquet
 * columns; `-` and empty mean absent). V8 turns an object given more than about a dozen properties by
 * computed name into a hash table, slower to build, read and serialise: 97 % of v5 records were. A copy of
 * a template that already has every name (made by JSON.parse, which keeps objects fast) stays a fast
 * object: 4.6 → 1.2 µs per line to build, and cheaper for every mapper and rule reading it.
 */
function flowFields(names: readonly string[], tokens: readonly string[]): FlowFields {
  let template = templates.get(names);
  if (template === undefined) {
    template = JSON.parse(`{${names.map((n) => `${JSON.stringify(n)}:null`).join(',')}}`) as FlowFields;
    for (const name of names) template[name] = undefined;
    templates.set(names, template);
  }
  const fields = { ...template };
  for (let i = 0; i < names.length; i++) {
    const value = tokens[i]!;
    if (value !== '-' && value !== '') fields[names[i]!] = value;
  }
  return fields;
}

/** A header names fields: every token is a field-like name and the first is one AWS documents. */
function isHeader(tokens: readonly string[]): boolean {
  const first = tokens[0];
  if (first === undefined || !FLOW_FIELDS.has(first)) return false;
  for (const t of tokens) if (!NAME.test(t)) return false;
  return true;
}

function unwrapMessage(text: string): string | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { message?: unknown }).message === 'string'
    ) {
      return (value as { message: string }).message;
    }
  } catch {
    // reported by the caller
  }
  return undefined;
}
