import { constants, createGunzip, type Gunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { DECODE_CODES } from './codes.js';
import { ZstdBlockCutter } from './zstd-blocks.js';

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
  // of 240, past the memory budget. Since the decoders take 16 KiB at a time, 256 KiB no longer raises the
  // peak, but through `run` it saved no CPU beyond the noise either (docs/performance.md).
  const gz = createGunzip({ chunkSize: 64 * 1024 });
  // Output is taken as it is made ('data') into this queue, never left in the stream: a zlib error
  // destroys the stream, and what it still held would be lost (whole records before a truncation). The
  // queue is bounded by feeding the input in small pieces only while it has room.
  const queue: Buffer[] = [];
  let queuedBytes = 0;
  let outputWaiter: (() => void) | undefined;
  let roomWaiter: (() => void) | undefined;
  const wakeOutput = (): void => {
    const resume = outputWaiter;
    outputWaiter = undefined;
    resume?.();
  };
  const wakeFeeder = (): void => {
    const resume = roomWaiter;
    roomWaiter = undefined;
    resume?.();
  };
  let ended = false;
  let zlibError: NodeJS.ErrnoException | undefined;
  gz.on('data', (chunk: Buffer) => {
    queue.push(chunk);
    queuedBytes += chunk.length;
    wakeOutput();
  });
  gz.on('end', () => {
    ended = true;
    wakeOutput();
  });
  gz.on('error', (err: NodeJS.ErrnoException) => {
    zlibError = err;
    wakeOutput();
    wakeFeeder();
  });
  gz.on('close', wakeFeeder);
  const input = source[Symbol.asyncIterator]();
  const room = async (): Promise<void> => {
    while (queuedBytes >= MAX_QUEUED_OUTPUT && !gz.destroyed) {
      await new Promise<void>((resolve) => {
        roomWaiter = resolve;
      });
    }
  };
  // The source's error is rethrown by the loop below (the object must be read again); handled here so
  // that it is never unhandled when the consumer has already stopped.
  let sourceError: { error: unknown } | undefined;
  feed(input, gz, room).then(wakeOutput, (error: unknown) => {
    sourceError = { error };
    wakeOutput();
  });
  try {
    for (;;) {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        queuedBytes -= chunk.length;
        if (queuedBytes < MAX_QUEUED_OUTPUT) wakeFeeder();
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
        outputWaiter = resolve;
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

/** Output held at most before more input is fed (plus what one input piece expands to). */
const MAX_QUEUED_OUTPUT = 128 * 1024;
/**
 * Input is fed in pieces of this size, so that the output one write can produce stays bounded (a piece
 * of deflate expands at most about a thousandfold) whatever the size of the chunks the source delivers.
 */
const INPUT_PIECE = 16 * 1024;

/**
 * Writes the source into the decompressor while its output queue has room; rejects with the source's
 * error. At the end of the source it first flushes (Z_SYNC_FLUSH: everything decompressible comes out and
 * reaches the queue), and only then ends the stream: if the data was truncated, the error comes after
 * every byte before the cut was taken, not instead of the last ones.
 */
async function feed(input: AsyncIterator<Uint8Array>, gz: Gunzip, room: () => Promise<void>): Promise<void> {
  for (;;) {
    const next = await input.next();
    if (gz.destroyed) return;
    if (next.done) {
      await new Promise<void>((resolve) => {
        gz.once('close', resolve);
        gz.flush(constants.Z_SYNC_FLUSH, () => resolve());
      });
      if (!gz.destroyed) gz.end();
      return;
    }
    const bytes = next.value;
    for (let at = 0; at < bytes.length; at += INPUT_PIECE) {
      await room();
      if (gz.destroyed) return;
      if (!gz.write(bytes.subarray(at, at + INPUT_PIECE))) {
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

/**
 * zstd through fzstd, which is synchronous: each push decodes every complete block it has been given. The
 * input is pushed one block at a time (ZstdBlockCutter) and the output of each push is handed on before the
 * next, so the output waiting here is a block or two (128 KiB each), however far the data expands and
 * however large the chunks the source delivers.
 */
async function* unzstd(
  source: AsyncIterable<Uint8Array>,
  fault: { value?: StreamFault },
): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  const stream = new ZstdDecompress((chunk) => {
    pending.push(chunk);
  });
  const cutter = new ZstdBlockCutter(INPUT_PIECE);
  // Only the decoder's own errors are faults of the data; errors of the source propagate.
  const feed = (piece: Uint8Array, final: boolean): boolean => {
    try {
      stream.push(piece, final);
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
    for (let at = 0; at < chunk.length; ) {
      const end = cutter.pieceEnd(chunk, at);
      const ok = feed(chunk.subarray(at, end), false);
      at = end;
      const output = pending;
      pending = [];
      yield* output;
      if (!ok) return;
    }
  }
  feed(new Uint8Array(0), true);
  yield* pending;
  pending = [];
}
