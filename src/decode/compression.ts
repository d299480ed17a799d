import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
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
  const piping = pipeline(Readable.from(source, { objectMode: false }), gz);
  // Errors are observed through the iteration below; this only prevents an unhandled rejection.
  piping.catch(() => undefined);
  try {
    for await (const chunk of gz) yield chunk as Buffer;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR') {
      fault.value = {
        code: DECODE_CODES.truncated,
        reason: 'the gzip stream is truncated (unexpected end of data)',
      };
    } else if (code === 'Z_DATA_ERROR' || code === 'Z_NEED_DICT') {
      fault.value = {
        code: DECODE_CODES.corruptCompression,
        reason: `the gzip stream is corrupt (${(err as Error).message})`,
      };
    } else {
      throw err;
    }
  } finally {
    gz.destroy();
  }
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
