import { createHash } from 'node:crypto';
import type { ZstdStreamHandler } from 'fzstd';
import { describe, expect, it, vi } from 'vitest';
import { decompress, type StreamFault } from '../../../src/decode/compression.js';
import { chunks } from './helpers.js';

// Counts every byte fzstd hands out, so that a test can see how much output waits inside `decompress`
// for the consumer: what was decoded minus what was taken.
const decoded = vi.hoisted(() => ({ bytes: 0 }));
vi.mock('fzstd', async (importOriginal) => {
  const fzstd = await importOriginal<typeof import('fzstd')>();
  class CountingDecompress extends fzstd.Decompress {
    constructor(ondata: ZstdStreamHandler) {
      super((chunk, final) => {
        decoded.bytes += chunk.length;
        ondata(chunk, final);
      });
    }
  }
  return { ...fzstd, Decompress: CountingDecompress };
});

/** The most a zstd block regenerates. */
const BLOCK = 128 * 1024;

async function drain(source: AsyncIterable<Uint8Array>) {
  decoded.bytes = 0;
  const fault: { value?: StreamFault } = {};
  const sha256 = createHash('sha256');
  let taken = 0;
  let largestChunk = 0;
  let mostWaiting = 0;
  for await (const chunk of decompress(source, 'zstd', fault)) {
    taken += chunk.length;
    largestChunk = Math.max(largestChunk, chunk.length);
    mostWaiting = Math.max(mostWaiting, decoded.bytes - taken);
    sha256.update(chunk);
  }
  return { bytes: taken, sha256: sha256.digest('hex'), largestChunk, mostWaiting, fault: fault.value };
}

async function* oneChunk(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}

type Block = { raw: Uint8Array } | { rle: number; size: number };

/** Frame headers (after the magic number): a descriptor with no flags and a 1 MiB window. */
const WINDOWED = [0x00, 0x50];

/**
 * A zstd frame of raw and RLE blocks, written by hand (Node 20 has no zstd compressor); no checksum.
 * `header` is the frame header after the magic number.
 */
function zstdFrame(blocks: readonly Block[], header: readonly number[] = WINDOWED): Buffer {
  const parts = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, ...header])];
  blocks.forEach((block, i) => {
    const last = i === blocks.length - 1 ? 1 : 0;
    const [type, size, content] =
      'raw' in block ? [0, block.raw.length, block.raw] : [1, block.size, Uint8Array.of(block.rle)];
    const header = last | (type << 1) | (size << 3);
    parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, header >> 16]), Buffer.from(content));
  });
  return Buffer.concat(parts);
}

function skippableFrame(data: string): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(Buffer.byteLength(data));
  return Buffer.concat([Buffer.from([0x53, 0x2a, 0x4d, 0x18]), size, Buffer.from(data)]);
}

/**
 * 9,000,000 bytes of JSON lines (`repeatedLines()`) as the zstd CLI 1.5.4 compresses them at level 19:
 * compressed blocks, an 8 MiB window and a content checksum, 1,927 bytes in all.
 */
const CLI_FIXTURE = Buffer.from(
  [
    'KLUv/YRoQFSJAEQkAEpafAobYEtSyAF2qLgtXiYYN0Rx/NOmzE0SX1dHwSgisACaAJkArJBcUAyze5VxW2hh4o5KcBGKMLpVEbWY',
    '5q5wEeaucKEJc1e40MPcFS7kMHeFCzXMXeFCEjg8zVJIjkExbPZ5nYzbYlqYu8KFImh0WZWImkJSKMxd4UIhzF3hQhPmrnChh7kr',
    'XMhh7goXapi7woUkcHiapZAcg2LY7PM6GbfFtDB3hQtF0OiyKhE1BQAPDBIkUKAAAgYkKBhggGBQsMABBQQw0ADBQAACEjBQ0EDB',
    'wIGjWxVRi2ruChcKYe4KF5owv185v7gexrcrXMhh7goXapi7woUkcHiapZBciGaf18m4LaaFuStcKMLosiqiFqK5K1wohLkrXGjC',
    '3CUVehjfrphzyGF6t1KuoYa5K1xIwvBmheQYYpjdq4xbUPNwQxgLai5XQi2ouStcKIS5K1xowvx+5dxDD+PbFXMOOUzvVso11DB3',
    'hQtJGN4BlbJrqGHuChcfnmYpJMegGGaf18m4LaaFiTsqwVhcc1kVUYtr7goXCmHuCheaML9fOb+HHsa3K6bnkMP0bqXsGmqYu8KF',
    'NTzNUkgurNnndTJui2lh4o5KMBahCKNbFVELa+4KFwph7goXmjC/Xzm/hx7Gtyum55DDtFJ2DTXMXeFCEjg8zVJILqrZ53Uybotp',
    'YeKOSjAWoQgBc1e4UAhzV7jQhPnvV87vcT2Mb7tieg7LYfq6lbJrVA1zV7iQBA5PsxSSY1AMm31eJcS0MPFwVIKxCBpdViWiFkFz',
    'V7hQCHNXuNCE+f3K+cX1ML5dMb2wHKZ3K2UXVcPcFS5Gw9MsheQY4mj2eZ2M22JamLijEoxFKMLosiqiFqO5K1wohLkrXGjC/H7l',
    '/B56GN+umJ5DDtO7AYQBqMMQyQ/7zAHDr5KtNWMQQCAI/AgC/5/Av38HKVDLry4QbWsjtOkmFRaAMEBIkAWQVAJBAJJGmyREAAIE',
    'MkDUWXsALoFARtEiCQiSef5Ipk2SME2pNrgMSjZZBBsMGQYDhtkmkaToFYAEESjp5MAkQoDAImwwZBIQsoM1wrRJJExTpA2XQYkI',
    'wkWDKIvFALC0aZMMJymBIIFIJQjkAMpiEDnfAApQMuQfxLatFbRtKgmKYQAsi2AALMJikGgmTUoWnQKAINnBGAEAQQRBOAyYQBEG',
    'mOePMNkkCdMqaYPLoEQEYdFElBV6L5YQQUvTpIAkkOywjwCAIAIIDgPAsggD5iFGmLaShGlKteFmULLJImwTYVqbJui0kqQggggk',
    'PDeIJCOIpGkmCRuAkB22EaZNkjBNkTbYNIxfSJbLIgyLwSAMi6aVVMsyaIJBGBgwgd6EMhjqmSmgCIs2BieSJEmypWkSCgbBsBgG',
    'YVgMB2FYNE2iTJZBEyHDYIEIh0EYFkODAHUiTiRJAuxorctAkiaSoE2UVGjTJgmrKWnDTJNEAgYZIAIEYoAIpKadBJAEMnCjrTZp',
    'kzBNkzbMNEkSTGvTBE2TRMqWJpMAiUAGiACBDBCaJiVDYICAeDCghRd1TVr0hU83VAAAAAEA/f+TX7kGAkQAAAABAP3/OQACRAAA',
    'AAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJE',
    'AAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkA',
    'AkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/',
    'OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA',
    '/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAA',
    'AQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQA',
    'AAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQAC',
    'RAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85',
    'AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9',
    '/zkAAkQAAAABAP3/OQACRAAAAAEA/f85AAJEAAAAAQD9/zkAAkUAAAABAD1UOQACcnmITw==',
  ].join(''),
  'base64',
);

function repeatedLines(): string {
  return Array.from(
    { length: 200_000 },
    (_, i) => `{"eventID":"${String(i % 1000).padStart(6, '0')}","eventName":"GetObject"}\n`,
  ).join('');
}

const sha256Of = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('decompress (zstd)', () => {
  it('hands on each block before decoding the next when one chunk expands to 64 MiB', async () => {
    const run = { rle: 0x78, size: BLOCK };
    const head = Buffer.from('{"first":true}\n');
    const tail = Buffer.from('{"last":true}\n');
    const input = Buffer.concat([
      zstdFrame([{ raw: head }, ...Array.from({ length: 256 }, () => run)]),
      skippableFrame('skipped'),
      zstdFrame([...Array.from({ length: 256 }, () => run), { raw: tail }]),
    ]);
    expect(input.length).toBeLessThan(4 * 1024);
    const expected = createHash('sha256').update(head);
    const xs = Buffer.alloc(BLOCK, 0x78);
    for (let i = 0; i < 512; i++) expected.update(xs);
    expected.update(tail);

    const got = await drain(oneChunk(input));
    expect(got.fault).toBeUndefined();
    expect(got.bytes).toBe(head.length + 512 * BLOCK + tail.length);
    expect(got.sha256).toBe(expected.digest('hex'));
    expect(got.largestChunk).toBeLessThanOrEqual(BLOCK);
    expect(got.mostWaiting).toBeLessThanOrEqual(2 * BLOCK);
  });

  it('decodes what a real compressor wrote, byte for byte and a block at a time, however it is chunked', async () => {
    const expected = sha256Of(repeatedLines());
    for (const size of [CLI_FIXTURE.length, 1000, 7, 1]) {
      const got = await drain(chunks(CLI_FIXTURE, size));
      expect(got.fault, `chunks of ${size}`).toBeUndefined();
      expect(got.bytes, `chunks of ${size}`).toBe(9_000_000);
      expect(got.sha256, `chunks of ${size}`).toBe(expected);
      expect(got.largestChunk, `chunks of ${size}`).toBeLessThanOrEqual(BLOCK);
      expect(got.mostWaiting, `chunks of ${size}`).toBeLessThanOrEqual(2 * BLOCK);
    }
  });

  it('follows every frame header layout, whatever bytes the chunks end on', async () => {
    const runs = Array.from({ length: 4 }, () => ({ rle: 0x2d, size: BLOCK }));
    const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];
    const content = 4 * BLOCK + 3;
    const input = Buffer.concat([
      zstdFrame([{ raw: Buffer.from('ab\n') }, ...runs]),
      skippableFrame(''),
      // Single segment (the content size is the window), a 4-byte content size.
      zstdFrame([{ raw: Buffer.from('cd\n') }, ...runs], [0xa0, ...u32(content)]),
      // A 4-byte dictionary id of 0 (none) and a 4-byte content size.
      zstdFrame([{ raw: Buffer.from('ef\n') }, ...runs], [0x83, 0x50, 0, 0, 0, 0, ...u32(content)]),
      // Single segment with a one-byte content size.
      zstdFrame([{ raw: Buffer.from('gh\n') }], [0x20, 3]),
    ]);
    const expected = ['ab', 'cd', 'ef'].map((s) => `${s}\n${'-'.repeat(4 * BLOCK)}`).join('') + 'gh\n';
    for (const size of [input.length, 5, 1]) {
      const got = await drain(chunks(input, size));
      expect(got.fault, `chunks of ${size}`).toBeUndefined();
      expect(got.sha256, `chunks of ${size}`).toBe(sha256Of(expected));
      // Each header read right: one block at a time, never a whole frame.
      expect(got.mostWaiting, `chunks of ${size}`).toBeLessThanOrEqual(2 * BLOCK);
    }
  });

  it('keeps what was decoded before a truncation and reports it', async () => {
    const text = Buffer.from(repeatedLines());
    // The first block (the distinct lines) takes 1,173 bytes, each later one 11: cut among the later ones.
    const got = await drain(oneChunk(CLI_FIXTURE.subarray(0, 1500)));
    expect(got.fault?.code).toBe('DECODE_TRUNCATED');
    expect(got.bytes).toBeGreaterThan(0);
    expect(got.sha256).toBe(sha256Of(text.subarray(0, got.bytes)));
  });

  it('reports data that is not zstd after the first frame as corrupt, and rethrows errors of the source', async () => {
    const frame = zstdFrame([{ raw: Buffer.from('ok\n') }]);
    const reserved = Buffer.from(frame);
    reserved[6] = 0b111; // the block header of a reserved block type
    const garbage = Buffer.concat([frame, Buffer.from('not zstd at all, and long enough to look at')]);
    for (const input of [reserved, garbage]) {
      const got = await drain(chunks(input, 5));
      expect(got.fault?.code).toBe('DECODE_CORRUPT_COMPRESSION');
    }

    async function* failing(): AsyncGenerator<Uint8Array> {
      yield CLI_FIXTURE.subarray(0, 100);
      throw new Error('connection reset');
    }
    await expect(drain(failing())).rejects.toThrow('connection reset');
  });
});
