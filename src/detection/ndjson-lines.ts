/**
 * The lines of an NDJSON stream, each held whole only up to `maxLineBytes`: input without newlines (a
 * wrong file, a binary object) must not be read into memory whole. A longer line is passed over up to its
 * newline and reported with its first bytes, so the lines after it still come.
 */
/**
 * A line, or the first bytes of one past the limit. `line` is 1-based and counts every line of the input
 * (blank ones too), so an operator can find it.
 */
export type NdjsonLine = { line: number; text: string } | { line: number; tooLong: true; head: string };

/** How much of an over-long line is kept to show in its report (at most the limit). */
const HEAD_BYTES = 4096;

export async function* ndjsonLines(
  body: AsyncIterable<Uint8Array | string>,
  maxLineBytes: number,
): AsyncGenerator<NdjsonLine> {
  let line = 0;
  // The start of a line not ended yet: copies, so a small remainder does not keep a large chunk alive.
  let carried: Buffer[] = [];
  let carriedBytes = 0;
  let tooLong = false;
  // Whatever the chunks, at least the limit's worth of the line has been seen when it goes over.
  const headBytes = Math.min(HEAD_BYTES, maxLineBytes);

  const take = (bytes: Buffer): void => {
    if (tooLong) return;
    carriedBytes += bytes.length;
    if (carriedBytes > maxLineBytes) {
      tooLong = true;
      // What is carried is within the limit; the head comes from it and the new bytes.
      carried = [Buffer.concat([...carried, bytes.subarray(0, headBytes)]).subarray(0, headBytes)];
      return;
    }
    if (bytes.length > 0) carried.push(Buffer.from(bytes));
  };

  const finish = (): NdjsonLine => {
    line++;
    const bytes = carried.length === 1 ? (carried[0] as Buffer) : Buffer.concat(carried);
    const result: NdjsonLine = tooLong
      ? { line, tooLong: true, head: bytes.toString('utf8') }
      : { line, text: bytes.toString('utf8', line === 1 && startsWithBom(bytes) ? 3 : 0) };
    carried = [];
    carriedBytes = 0;
    tooLong = false;
    return result;
  };

  for await (const chunk of body) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : asBuffer(chunk);
    let start = 0;
    // A newline byte never occurs inside a UTF-8 sequence, so cutting the bytes there is safe.
    for (let nl = bytes.indexOf(0x0a); nl >= 0; nl = bytes.indexOf(0x0a, start)) {
      if (carried.length === 0 && !tooLong && nl - start <= maxLineBytes) {
        // The common case, a whole line within the chunk: decoded where it is, not copied first.
        line++;
        const from = line === 1 && startsWithBom(bytes.subarray(start)) ? start + 3 : start;
        yield { line, text: bytes.toString('utf8', from, nl) };
      } else {
        take(bytes.subarray(start, nl));
        yield finish();
      }
      start = nl + 1;
    }
    take(bytes.subarray(start));
  }
  if (carriedBytes > 0) yield finish();
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** A UTF-8 byte order mark, which TextDecoder would have dropped. */
function startsWithBom(bytes: Buffer): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}
