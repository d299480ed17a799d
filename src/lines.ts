/** A line of output (an HEC envelope, a bulk action and source, an NDJSON document) with its UTF-8 length. */
export interface EncodableLine {
  line: string;
  bytes: number;
}

/**
 * Lines encoded one after another into one buffer of their total size (a request body, a block of output).
 * Joining them as text first costs 3–5× more per line: the joined string is two-byte as soon as one line
 * has a character beyond Latin-1 (a user name, an object key), and V8 flattens and encodes all of it on
 * the slow path (docs/performance.md). A buffer is also what HTTP clients and streams make of text anyway.
 */
export function encodeLines(lines: readonly EncodableLine[]): Buffer {
  let size = 0;
  for (const l of lines) size += l.bytes;
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  for (const l of lines) at += body.write(l.line, at, 'utf8');
  return body;
}

/**
 * Lines encoded as UTF-8 straight into shared blocks outside V8's heap, each line handed back as where its
 * bytes are. A line built as one string (its parts concatenated, flattened to measure it, encoded again
 * into the request body) made a second, flat copy of every record's text, and that copy stayed on the heap
 * until its batch was acknowledged: the young-generation collector copied it over and over. Here each
 * part (an envelope's head, the record's own text, its fields) is encoded once, where it will be sent from.
 *
 * Blocks are only ever appended to, so a line's bytes never change; a block is released with its last line.
 */
export class Utf8Blocks {
  #block = Buffer.alloc(0);
  #used = 0;

  /** `blockBytes`: the size of each shared block; a line that could take over a quarter of it gets its own. */
  constructor(private readonly blockBytes = 1024 * 1024) {}

  /** The parts, encoded one after another, as one line. */
  encode(parts: readonly string[]): EncodedLine {
    let chars = 0;
    for (const part of parts) chars += part.length;
    // A UTF-16 unit never takes more than 3 UTF-8 bytes (a surrogate pair: 2 units, 4 bytes).
    const bound = chars * 3;
    if (bound > this.blockBytes / 4) return encodeAlone(parts);
    if (bound > this.#block.length - this.#used) {
      // Never from Node's shared pool: a block is held as long as any of its lines.
      this.#block = Buffer.allocUnsafeSlow(this.blockBytes);
      this.#used = 0;
    }
    const block = this.#block;
    const start = this.#used;
    let end = start;
    for (const part of parts) end += block.write(part, end, 'utf8');
    this.#used = end;
    // Three fields, not a Buffer view: a view per line would cost as much to make as the encoding.
    return { block, start, end };
  }
}

/** Where a line's bytes are: `block` from `start` (inclusive) to `end` (exclusive). */
export interface EncodedLine {
  readonly block: Buffer;
  readonly start: number;
  readonly end: number;
}

function encodeAlone(parts: readonly string[]): EncodedLine {
  let size = 0;
  for (const part of parts) size += Buffer.byteLength(part, 'utf8');
  const block = Buffer.allocUnsafeSlow(size);
  let end = 0;
  for (const part of parts) end += block.write(part, end, 'utf8');
  return { block, start: 0, end };
}

/** A line's size in bytes. */
export function lineBytes(line: EncodedLine): number {
  return line.end - line.start;
}

/** A line's text, decoded again (for a dead letter: the rare path). */
export function lineText(line: EncodedLine): string {
  return line.block.toString('utf8', line.start, line.end);
}

/**
 * Lines one after another as one buffer (a request body): lines that lie end to end in one block come
 * back as one view of it, without a copy; others are copied together.
 */
export function joinLines(lines: readonly EncodedLine[]): Buffer {
  const first = lines[0];
  if (first === undefined) return Buffer.alloc(0);
  let end = first.end;
  let adjacent = true;
  for (let i = 1; i < lines.length && adjacent; i++) {
    const line = lines[i]!;
    adjacent = line.block === first.block && line.start === end;
    end = line.end;
  }
  if (adjacent) return first.block.subarray(first.start, end);
  return Buffer.concat(lines.map((l) => l.block.subarray(l.start, l.end)));
}
