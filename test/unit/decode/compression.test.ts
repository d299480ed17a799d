import { setTimeout as sleep } from 'node:timers/promises';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompress, type StreamFault } from '../../../src/decode/compression.js';
import { chunks } from './helpers.js';

describe('decompress (gzip)', () => {
  it('yields every byte decompressed before a truncation, even to a consumer that waits between chunks', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `{"eventID":"${i}","pad":"${'x'.repeat(i % 300)}"}`);
    const gz = gzipSync(lines.join('\n'));
    for (const share of [0.3, 0.6, 0.9]) {
      const cut = gz.subarray(0, Math.floor(gz.length * share));
      // What zlib can decompress from the cut stream: all of it must arrive.
      const expected = gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH });
      const fault: { value?: StreamFault } = {};
      const got: Buffer[] = [];
      for await (const chunk of decompress(chunks(cut, 16 * 1024), 'gzip', fault)) {
        got.push(Buffer.from(chunk));
        await sleep(2);
      }
      expect(Buffer.concat(got).equals(expected)).toBe(true);
      expect(fault.value?.code).toBe('DECODE_TRUNCATED');
    }
  });

  it('reports corrupt data as a fault and rethrows errors of the source', async () => {
    const gz = gzipSync('x'.repeat(100_000));
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 20, 40);
    const fault: { value?: StreamFault } = {};
    for await (const _ of decompress(chunks(corrupt, 1000), 'gzip', fault)) {
      // drained
    }
    expect(fault.value?.code).toBe('DECODE_CORRUPT_COMPRESSION');

    async function* failing(): AsyncGenerator<Uint8Array> {
      yield gz.subarray(0, 100);
      throw new Error('connection reset');
    }
    const consume = async () => {
      for await (const _ of decompress(failing(), 'gzip', {})) {
        // drained
      }
    };
    await expect(consume()).rejects.toThrow('connection reset');
  });
});
