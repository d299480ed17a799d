import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DecodeOptions, type DecodeResult, decodeObject } from '../../../src/decode/index.js';

/** The public test data beside the repository (`../shared/peer/`), resolved from the repo root. */
export const PEER_DIR = fileURLToPath(new URL('../../../../shared/peer/', import.meta.url));
export const HAVE_PEER = existsSync(PEER_DIR);
export const PEER_SKIP_REASON = `public peer test data not found at ../shared/peer (relative to the repository); skipping`;

export async function* chunks(data: Uint8Array | string, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export async function decodeAll(
  data: Uint8Array | string | AsyncIterable<Uint8Array>,
  options: Partial<DecodeOptions> & { chunkSize?: number; pauseEvery?: number } = {},
): Promise<DecodeResult[]> {
  const { chunkSize, pauseEvery, ...decodeOptions } = options;
  const body = typeof data === 'string' || data instanceof Uint8Array ? chunks(data, chunkSize ?? 7) : data;
  const out: DecodeResult[] = [];
  for await (const r of decodeObject(body, {
    origin: options.origin ?? { key: 'test-object' },
    ...decodeOptions,
  })) {
    out.push(r);
    if (pauseEvery && out.length % pauseEvery === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return out;
}

export function records(results: DecodeResult[]) {
  return results.flatMap((r) => (r.kind === 'record' ? [r.record] : []));
}

export function rejects(results: DecodeResult[]) {
  return results.flatMap((r) => (r.kind === 'rejected' ? [r.rejected] : []));
}

/**
 * Like `decodeAll`, but waits for a timer every `every` results, as a consumer that writes to a sink
 * does; decompressed output then waits in the decompressor when the stream fails.
 */
export function decodeSlowly(
  data: Uint8Array,
  options: Partial<DecodeOptions> & { chunkSize?: number } = {},
  every = 100,
): Promise<DecodeResult[]> {
  return decodeAll(data, { ...options, chunkSize: options.chunkSize ?? 16 * 1024, pauseEvery: every });
}
