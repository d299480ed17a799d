import { DECODE_CODES, type DecodeLimits, MAX_RAW_KEPT } from './codes.js';

/** One top-level unit found by the splitter. `index` is the 1-based record number in the object. */
export type SplitEvent =
  | { kind: 'record'; index: number; value: Record<string, unknown>; text: string }
  | { kind: 'error'; index: number; code: string; reason: string; raw?: string }
  | { kind: 'digest' };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;

type Mode = 'top' | 'array' | 'tail';
/**
 * How top-level records are laid out, decided by the first one: `lines` (NDJSON: a one-line record, then a
 * line break before the next), `free` (a record spanning lines, i.e. pretty-printed, or records
 * concatenated on one line), `unknown` until then.
 */
type Layout = 'unknown' | 'lines' | 'free';

/**
 * Splits CloudTrail JSON into records without parsing the whole object: a byte scanner tracks string,
 * escape and nesting state, collects one record's bytes and hands them to JSON.parse. Memory is bounded
 * by the largest record, not by the object. Accepts `{"Records":[...]}` (CloudTrail S3 objects), a bare
 * array of records, and NDJSON / concatenated objects.
 *
 * In NDJSON a line break ends a record, valid or not: a raw one inside a string (even after a backslash)
 * or one inside an unclosed object means the line is cut or malformed; it is reported and scanning
 * resynchronises on the next line, so the records after it still decode (a raw line break in a string of
 * the first top-level record, before the layout is known, is treated so too). Elsewhere (an array of
 * records, pretty-printed objects) line breaks are only layout: a raw one inside a string makes that one
 * record invalid (JSON.parse says so) and its end is still found by nesting depth.
 */
export class JsonRecordSplitter {
  private readonly maxRecordBytes: number;
  private mode: Mode = 'top';
  /** Depth at which record values start in the current mode (0 at top level, 1 or 2 inside an array). */
  private base = 0;
  private depth = 0;
  private inString = false;
  private escape = false;
  private started = false;
  private layout: Layout = 'unknown';
  /** A top-level record has ended; whether a line break or the next record comes first decides `layout`. */
  private afterValue = false;

  // The value being collected.
  private inValue = false;
  private valueKind: 'container' | 'string' | 'scalar' = 'container';
  /** A top-level object that may still turn out to be the `{"Records":[` wrapper. */
  private candidate = false;
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private oversize = false;
  private oversizeHead = '';
  private valueStart = 0;

  private index = 0;
  private out: SplitEvent[] = [];

  constructor(limits: Pick<DecodeLimits, 'maxRecordBytes'>) {
    this.maxRecordBytes = limits.maxRecordBytes;
  }

  push(chunk: Uint8Array): SplitEvent[] {
    this.out = [];
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (!this.started && buf.length > 0) {
      this.started = true;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    this.scan(buf);
    if (this.inValue) this.keepPart(buf, this.valueStart, buf.length);
    this.valueStart = 0;
    return this.out;
  }

  /**
   * Ends the object. With `truncated`, an unfinished record is reported as cut off by it. Without, an
   * object that ends inside an array of records (or the wrapper around it) is reported as truncated too,
   * after the complete records: a cut after a record's `}` is no less a cut.
   */
  end(truncated?: { code: string; reason: string }): SplitEvent[] {
    this.out = [];
    if (this.inValue && this.valueKind === 'scalar' && !truncated) {
      this.finishValue(Buffer.alloc(0), 0);
    }
    const unclosed = this.mode === 'top' ? undefined : this.unclosedContainer();
    if (this.inValue) {
      this.index++;
      const raw = this.collectedText();
      const reason =
        truncated?.reason ?? `the object ends inside this record${unclosed ? ' (it is truncated)' : ''}`;
      this.out.push({
        kind: 'error',
        index: this.index,
        // In NDJSON an unfinished last line may just be malformed; inside an array it is a cut object.
        code: truncated ? truncated.code : unclosed ? DECODE_CODES.truncated : DECODE_CODES.invalidJson,
        reason: `record ${this.index}: ${reason}`,
        raw: raw.slice(0, MAX_RAW_KEPT),
      });
      this.resetValue();
    } else if (truncated || unclosed) {
      this.out.push({
        kind: 'error',
        index: this.index + 1,
        code: truncated ? truncated.code : DECODE_CODES.truncated,
        reason: `after record ${this.index}: ${truncated?.reason ?? `the object ends before ${unclosed} is closed (it is truncated)`}`,
      });
    }
    return this.out;
  }

  /** What the object is still inside of, outside a record (only in array or tail mode). */
  private unclosedContainer(): string {
    if (this.mode === 'tail') return 'the object holding the Records array';
    return this.base === 2 ? 'the Records array' : 'the array of records';
  }

  private scan(buf: Buffer): void {
    const len = buf.length;
    let i = 0;
    // Next positions of a quote, backslash and newline at or after i, cached so each is searched once.
    let q = -1;
    let bs = -1;
    let nl = -1;
    while (i < len) {
      if (this.inString) {
        if (this.escape) {
          this.escape = false;
          // A backslash does not make a raw line break valid: it ends the broken line all the same.
          if (buf[i] === NEWLINE && this.lineBreaksEnd()) {
            this.brokenRecord(buf, i, 'a line break inside a string (the record is cut or malformed)');
          }
          i++;
          continue;
        }
        if (q < i) q = indexOrEnd(buf, QUOTE, i, len);
        if (bs < i) bs = indexOrEnd(buf, BACKSLASH, i, len);
        // Where line breaks are only layout, there is no need to look for them.
        let stop = len;
        if (this.lineBreaksEnd()) {
          if (nl < i) nl = indexOrEnd(buf, NEWLINE, i, len);
          stop = nl;
        }
        if (bs < q && bs < stop) {
          this.escape = true;
          i = bs + 1;
          continue;
        }
        if (stop < q) {
          this.brokenRecord(buf, stop, 'a line break inside a string (the record is cut or malformed)');
          i = stop + 1;
          continue;
        }
        if (q === len) return;
        this.inString = false;
        i = q + 1;
        if (this.inValue && this.valueKind === 'string' && this.depth === this.base) this.finishValue(buf, i);
        continue;
      }
      const c = buf[i]!;
      if (this.inValue && this.valueKind === 'scalar' && this.depth === this.base) {
        if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
          this.finishValue(buf, i);
        } else {
          i++;
          continue;
        }
      }
      switch (c) {
        case QUOTE:
          if (!this.inValue && this.mode !== 'tail' && this.depth === this.base) this.startValue(i, 'string');
          this.inString = true;
          i++;
          break;
        case 0x7b: // {
          if (!this.inValue && this.mode !== 'tail' && this.depth === this.base) {
            this.startValue(i, 'container');
            this.candidate = this.mode === 'top';
          }
          this.depth++;
          i++;
          break;
        case 0x5b: // [
          if (!this.inValue && this.mode === 'top' && this.depth === 0) {
            // A bare array of records: its elements are the records.
            this.mode = 'array';
            this.base = 1;
            this.depth = 1;
            i++;
            break;
          }
          if (this.candidate && this.depth === 1 && this.isRecordsWrapper(buf, i)) {
            this.resetValue();
            this.mode = 'array';
            this.base = 2;
            this.depth = 2;
            i++;
            break;
          }
          if (!this.inValue && this.mode === 'array' && this.depth === this.base)
            this.startValue(i, 'container');
          this.depth++;
          i++;
          break;
        case 0x7d: // }
        case 0x5d: // ]
          if (this.depth === 0) {
            // Stray closer at top level: junk between records; count it as a broken record.
            this.index++;
            this.out.push({
              kind: 'error',
              index: this.index,
              code: DECODE_CODES.invalidJson,
              reason: `record ${this.index}: unexpected '${String.fromCharCode(c)}' between records`,
            });
            i++;
            break;
          }
          this.depth--;
          i++;
          if (this.inValue && this.depth === this.base) {
            this.finishValue(buf, i);
          } else if (this.mode === 'array' && this.depth === this.base - 1) {
            // The records array closed; skip the rest of the wrapper object.
            if (this.depth === 0) this.toTop();
            else this.mode = 'tail';
          } else if (this.mode === 'tail' && this.depth === 0) {
            this.toTop();
          }
          break;
        case NEWLINE:
          if (this.mode === 'top') this.topLineBreak(buf, i);
          i++;
          break;
        case 0x20:
        case 0x0d:
        case 0x09:
        case 0x2c: // ,
        case 0x3a: // :
          i++;
          break;
        default:
          if (!this.inValue && this.mode !== 'tail' && this.depth === this.base) this.startValue(i, 'scalar');
          i++;
      }
    }
  }

  /** Whether a line break ends the record it is in: records may be one per line (NDJSON). */
  private lineBreaksEnd(): boolean {
    return this.mode === 'top' && this.layout !== 'free';
  }

  /** A line break outside strings at top level: ends an NDJSON record, or tells the layout. */
  private topLineBreak(buf: Buffer, at: number): void {
    if (this.depth > 0) {
      if (this.layout === 'lines') {
        this.brokenRecord(
          buf,
          at,
          'the line ends inside this record; NDJSON has one record per line, so it is cut or malformed',
        );
      } else if (this.layout === 'unknown') {
        this.layout = 'free';
      }
    } else if (this.afterValue && this.layout === 'unknown') {
      this.layout = 'lines';
    }
  }

  private toTop(): void {
    this.mode = 'top';
    this.base = 0;
    this.depth = 0;
  }

  private startValue(at: number, kind: 'container' | 'string' | 'scalar'): void {
    // A second record with no line break after the first: records are concatenated, not NDJSON.
    if (this.afterValue && this.layout === 'unknown') this.layout = 'free';
    this.inValue = true;
    this.valueKind = kind;
    this.valueStart = at;
    this.candidate = false;
  }

  private resetValue(): void {
    this.inValue = false;
    this.candidate = false;
    this.parts = [];
    this.partsBytes = 0;
    this.oversize = false;
    this.oversizeHead = '';
  }

  private keepPart(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    if (this.oversize) return;
    // Copy: the chunk's memory may be reused by the decompressor after this call returns.
    const part = Buffer.from(buf.subarray(from, to));
    this.partsBytes += part.length;
    if (this.partsBytes > this.maxRecordBytes) {
      this.oversize = true;
      this.oversizeHead = Buffer.concat([...this.parts, part])
        .subarray(0, MAX_RAW_KEPT)
        .toString('utf8');
      this.parts = [];
      return;
    }
    this.parts.push(part);
  }

  private collectedText(tail?: Buffer): string {
    if (this.oversize) return this.oversizeHead;
    if (this.parts.length === 0) return tail ? tail.toString('utf8') : '';
    return Buffer.concat(tail ? [...this.parts, tail] : this.parts).toString('utf8');
  }

  private finishValue(buf: Buffer, endExclusive: number): void {
    this.index++;
    if (this.mode === 'top') this.afterValue = true;
    const index = this.index;
    const tooLarge =
      this.oversize || this.partsBytes + (endExclusive - this.valueStart) > this.maxRecordBytes;
    if (tooLarge) {
      const head = this.oversize
        ? this.oversizeHead
        : this.collectedText(buf.subarray(this.valueStart, endExclusive));
      this.out.push({
        kind: 'error',
        index,
        code: DECODE_CODES.recordTooLarge,
        reason: `record ${index}: larger than the ${this.maxRecordBytes}-byte record limit`,
        raw: head.slice(0, MAX_RAW_KEPT),
      });
      this.resetValue();
      return;
    }
    const text =
      this.parts.length === 0
        ? buf.toString('utf8', this.valueStart, endExclusive)
        : this.collectedText(buf.subarray(this.valueStart, endExclusive));
    this.resetValue();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.out.push({
        kind: 'error',
        index,
        code: DECODE_CODES.invalidJson,
        reason: `record ${index}: invalid JSON (${(err as Error).message})`,
        raw: text.slice(0, MAX_RAW_KEPT),
      });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.out.push({
        kind: 'error',
        index,
        code: DECODE_CODES.notObject,
        reason: `record ${index}: a CloudTrail record must be a JSON object, got ${describe(value)}`,
        raw: text.slice(0, MAX_RAW_KEPT),
      });
      return;
    }
    const record = value as Record<string, unknown>;
    if (this.mode === 'top' && isDigest(record)) {
      this.index--;
      this.out.push({ kind: 'digest' });
      return;
    }
    this.out.push({ kind: 'record', index, value: record, text });
  }

  /** A raw line break inside a string: the record is broken; report it and resynchronise after the break. */
  private brokenRecord(buf: Buffer, at: number, why: string): void {
    this.inString = false;
    this.escape = false;
    if (this.inValue) {
      this.index++;
      const raw = this.collectedText(buf.subarray(this.valueStart, at));
      this.out.push({
        kind: 'error',
        index: this.index,
        code: DECODE_CODES.invalidJson,
        reason: `record ${this.index}: invalid JSON (${why})`,
        raw: raw.slice(0, MAX_RAW_KEPT),
      });
      this.resetValue();
    }
    this.depth = this.base;
    this.valueStart = at + 1;
  }

  /** Whether the top-level object collected so far is `{ ... "Records":` just before this `[`. */
  private isRecordsWrapper(buf: Buffer, at: number): boolean {
    if (this.partsBytes + (at - this.valueStart) > 64 * 1024) return false;
    const text = this.collectedText(buf.subarray(this.valueStart, at));
    return /"Records"\s*:\s*$/.test(text);
  }
}

function indexOrEnd(buf: Buffer, byte: number, from: number, len: number): number {
  const at = buf.indexOf(byte, from);
  return at === -1 ? len : at;
}

function isDigest(value: Record<string, unknown>): boolean {
  return 'digestStartTime' in value && 'digestEndTime' in value && 'logFiles' in value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
