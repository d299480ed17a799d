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
