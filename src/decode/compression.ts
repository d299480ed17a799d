import { createGunzip, type Gunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { DECODE_CODES } from './codes.js';

export type Container = 'gzip' | 'zstd' | 'parquet' | 'plain';

/** What ended a compressed stream early; the caller reports it after the records decoded before it. */
export interface StreamFault {
  code: string;
  reason: string;
}

/** Compression by magic bytes, never by file name or Content-Encoding (S3 metadata is often wrong). */
export function sniffContainer(head: Uint8Array): Container {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31) return 'parquet';
  return 'plain';
}

/**
 * Decompresses a byte stream. A decompression failure (truncated or corrupt data) does not throw: it ends
 * the stream and is written to `fault`, so the records before it are kept. Errors of the source itself
 * (network, S3) are rethrown: the object must be read again, not half-acknowledged.
 */
export async function* decompress(
  source: AsyncIterable<Uint8Array>,
  container: 'gzip' | 'zstd',
  fault: { value?: StreamFault },
): AsyncGenerator<Uint8Array> {
  if (container === 'gzip') yield* gunzip(source, fault);
  else yield* unzstd(source, fault);
}

async function* gunzip(
  source: AsyncIterable<Uint8Array>,
  fault: { value?: StreamFault },
): AsyncGenerator<Uint8Array> {
  // 64 KiB of output per chunk. Each chunk is a round trip to the libuv pool and back through the stream;
  // 256 KiB chunks cut that plumbing (8 MB of CloudTrail: 18 → 12.5 ms of CPU) but let more decoded text
  // and parsed records wait at once, and one 200 MB object through `run` then peaked at 261 MiB instead
  // of 240, past the memory budget (docs/performance.md).
  const gz = createGunzip({ chunkSize: 64 * 1024 });
  // Read with `read()`, not the stream's async iterator: on a zlib error the stream destroys itself, and
  // the iterator then ends at once, discarding the output still buffered in the stream (up to a chunk,
  // whole records); `read()` still returns it, so every byte decompressed before the error is yielded.
  // Backpressure is zlib's own: it stops inflating while a chunk waits here unread.
  let wake: (() => void) | undefined;
  const signal = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  let ended = false;
  let zlibError: NodeJS.ErrnoException | undefined;
  gz.on('readable', signal);
  gz.on('end', () => {
    ended = true;
    signal();
  });
  gz.on('error', (err: NodeJS.ErrnoException) => {
    zlibError = err;
    signal();
  });
  const input = source[Symbol.asyncIterator]();
  // The source's error is rethrown by the loop below (the object must be read again); handled here so
  // that it is never unhandled when the consumer has already stopped.
  let sourceError: { error: unknown } | undefined;
  feed(input, gz).then(signal, (error: unknown) => {
    sourceError = { error };
    signal();
  });
  try {
    for (;;) {
      const chunk = gz.read() as Buffer | null;
      if (chunk !== null) {
        yield chunk;
        continue;
      }
      if (sourceError) throw sourceError.error;
      if (zlibError) {
        fault.value = gzipFault(zlibError);
        return;
      }
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    gz.destroy();
    // Not awaited: a read of the source still pending (the next bytes from S3) would hold the consumer.
    Promise.resolve()
      .then(() => input.return?.())
      .catch(() => undefined);
  }
}

/** Writes the source into the decompressor, waiting while it is full; rejects with the source's error. */
async function feed(input: AsyncIterator<Uint8Array>, gz: Gunzip): Promise<void> {
  for (;;) {
    const next = await input.next();
    if (gz.destroyed) return;
    if (next.done) {
      gz.end();
      return;
    }
    if (!gz.write(next.value)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          gz.off('drain', done);
          gz.off('close', done);
          resolve();
        };
        gz.on('drain', done);
        gz.on('close', done);
      });
      if (gz.destroyed) return;
    }
  }
}

/** A zlib error as a fault of the data; anything else is rethrown. */
function gzipFault(err: NodeJS.ErrnoException): StreamFault {
  if (err.code === 'Z_BUF_ERROR') {
    return { code: DECODE_CODES.truncated, reason: 'the gzip stream is truncated (unexpected end of data)' };
  }
  if (err.code === 'Z_DATA_ERROR' || err.code === 'Z_NEED_DICT') {
    return { code: DECODE_CODES.corruptCompression, reason: `the gzip stream is corrupt (${err.message})` };
  }
  throw err;
}

async function* unzstd(
  source: AsyncIterable<Uint8Array>,
  fault: { value?: StreamFault },
): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  const stream = new ZstdDecompress((chunk) => {
    pending.push(chunk);
  });
  // Only the decoder's own errors are faults of the data; errors of the source propagate.
  const feed = (chunk: Uint8Array, final: boolean): boolean => {
    try {
      stream.push(chunk, final);
      return true;
    } catch (err) {
      const eof = (err as { code?: unknown }).code === 5;
      fault.value = eof
        ? { code: DECODE_CODES.truncated, reason: 'the zstd stream is truncated (unexpected end of data)' }
        : {
            code: DECODE_CODES.corruptCompression,
            reason: `the zstd stream is corrupt (${(err as Error).message})`,
          };
      return false;
    }
  };
  for await (const chunk of source) {
    const ok = feed(chunk, false);
    yield* pending;
    pending = [];
    if (!ok) return;
  }
  feed(new Uint8Array(0), true);
  yield* pending;
  pending = [];
}
