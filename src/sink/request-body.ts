/** A line of a request body (an HEC envelope, a bulk action and source) with its UTF-8 length. */
export interface BodyLine {
  line: string;
  bytes: number;
}

/**
 * The lines of one request, encoded one after another into a buffer of the body's size. Joining them as
 * text first costs 3–5× more per line: the joined string is two-byte as soon as one line has a character
 * beyond Latin-1 (a user name, an object key), and V8 flattens and encodes all of it on the slow path
 * (docs/performance.md). A buffer is also what the HTTP clients would have made of the text anyway.
 */
export function encodeLines(lines: readonly BodyLine[]): Buffer {
  let size = 0;
  for (const l of lines) size += l.bytes;
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  for (const l of lines) at += body.write(l.line, at, 'utf8');
  return body;
}
