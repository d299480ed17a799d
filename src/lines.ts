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
 * Lines encoded as UTF-8 straight into shared blocks outside V8's heap, each line handed back as a view of
 * its bytes. A line built as one string (its parts concatenated, flattened to measure it, encoded again
 * into the request body) made a second, flat copy of every record's text, and that copy stayed on the heap
 * until its batch was acknowledged: the young-generation collector copied it over and over. Here each
 * part (an envelope's head, the record's own text, its fields) is encoded once, where it will be sent from.
 *
 * Blocks are only ever appended to, so a view never changes; a block is released with its last view.
 */
export class Utf8Blocks {
  #block = Buffer.alloc(0);
  #used = 0;

  /** `blockBytes`: the size of each shared block; a line that could take over a quarter of it gets its own. */
  constructor(private readonly blockBytes = 1024 * 1024) {}

  /** The parts, encoded one after another, as one view. */
  encode(parts: readonly string[]): Buffer {
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
    const start = this.#used;
    let at = start;
    for (const part of parts) at += this.#block.write(part, at, 'utf8');
    this.#used = at;
    return this.#block.subarray(start, at);
  }
}

function encodeAlone(parts: readonly string[]): Buffer {
  let size = 0;
  for (const part of parts) size += Buffer.byteLength(part, 'utf8');
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  for (const part of parts) at += out.write(part, at, 'utf8');
  return out;
}

/**
 * Views one after another as one buffer (a request body): views that lie end to end in the same block come
 * back as one view of it, without a copy; others are copied together.
 */
export function joinViews(views: readonly Buffer[]): Buffer {
  if (views.length === 1) return views[0]!;
  const first = views[0];
  if (first === undefined) return Buffer.alloc(0);
  let end = first.byteOffset + first.length;
  let adjacent = true;
  for (let i = 1; i < views.length && adjacent; i++) {
    const view = views[i]!;
    adjacent = view.buffer === first.buffer && view.byteOffset === end;
    end += view.length;
  }
  if (adjacent) return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
  return Buffer.concat(views);
}
