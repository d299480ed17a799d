import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { directoryDeadLetter, s3DeadLetter } from '../../../src/pipeline/dead-letter.js';

// The real appendFile, counted: how many appends the directory dead letter makes.
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return { ...fs, appendFile: vi.fn(fs.appendFile) };
});

const entry = (record: number) => ({
  code: 'MAP_INVALID',
  reason: 'bad record',
  origin: { bucket: 'b', key: 'AWSLogs/x.json.gz', record },
});

function lines(dir: string): Array<{ origin: { record: number } }> {
  return readdirSync(dir).flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { origin: { record: number } }),
  );
}

describe('directory dead letter', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('appends one NDJSON line per entry, in order, under a directory it creates', async () => {
    const root = mkdtempSync(join(tmpdir(), 'asc-dl-'));
    made.push(root);
    const dir = join(root, 'nested', 'dead-letter');
    const dl = directoryDeadLetter(dir);
    await Promise.all([dl.write(entry(1)), dl.write(entry(2)), dl.write(entry(3))]);
    await dl.close();
    expect(lines(dir).map((l) => l.origin.record)).toEqual([1, 2, 3]);
  });

  it('tries to make the directory again on the next write after making it failed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'asc-dl-'));
    made.push(root);
    // A file where a parent directory should be: mkdir fails (ENOTDIR / EEXIST) until it is gone.
    const blocker = join(root, 'volume');
    writeFileSync(blocker, 'not a directory');
    const dir = join(blocker, 'dead-letter');
    const dl = directoryDeadLetter(dir);
    await expect(dl.write(entry(1))).rejects.toThrow();

    rmSync(blocker);
    await dl.write(entry(2));
    await dl.close();
    expect(lines(dir).map((l) => l.origin.record)).toEqual([2]);
  });

  it('makes the directory again when it disappears after it was made', async () => {
    const root = mkdtempSync(join(tmpdir(), 'asc-dl-'));
    made.push(root);
    const dir = join(root, 'dead-letter');
    const dl = directoryDeadLetter(dir);
    await dl.write(entry(1));
    rmSync(dir, { recursive: true });
    await dl.write(entry(2));
    await dl.close();
    expect(lines(dir).map((l) => l.origin.record)).toEqual([2]);
  });
});

describe('directory dead letter: batching', () => {
  const made: string[] = [];
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('writes the lines that arrive while an append is in progress together in the next append, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-dl-'));
    made.push(dir);
    const dl = directoryDeadLetter(dir);
    vi.mocked(appendFile).mockClear();
    const written = Array.from({ length: 2000 }, (_, i) => dl.write(entry(i + 1)));
    await Promise.all(written);
    await dl.close();
    expect(lines(dir).map((l) => l.origin.record)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    // The first line starts an append at once; the 1,999 taken meanwhile go out in one more.
    expect(vi.mocked(appendFile).mock.calls.length).toBeLessThanOrEqual(3);
  });

  it('counts what the entries not yet written cost, and asks producers to wait only above the bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-dl-'));
    made.push(dir);
    const dl = directoryDeadLetter(dir, { maxPendingBytes: 1024 });
    expect(dl.pendingBytes).toBe(0);
    expect(dl.whenRoom()).toBeUndefined();
    // Record numbers of two digits: every line is as long as the first.
    const first = dl.write(entry(10));
    const line = dl.pendingBytes;
    expect(line).toBeGreaterThan(50);
    const rest = Array.from({ length: 20 }, (_, i) => dl.write(entry(i + 11)));
    expect(dl.pendingBytes).toBe(21 * line);
    const room = dl.whenRoom();
    expect(room).toBeInstanceOf(Promise);
    await room;
    expect(dl.pendingBytes).toBeLessThanOrEqual(1024);
    await Promise.all([first, ...rest]);
    expect(dl.pendingBytes).toBe(0);
    await dl.close();
  });
});

/** An S3 client that keeps each upload's key and body, and counts uploads in flight. */
function fakeS3(options: { delayMs?: number; failFirst?: boolean } = {}) {
  const uploads: Array<{ key: string; body: string }> = [];
  let inFlight = 0;
  let calls = 0;
  const state = { peak: 0 };
  const client = {
    async send(command: PutObjectCommand) {
      const call = ++calls;
      inFlight++;
      state.peak = Math.max(state.peak, inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, options.delayMs ?? 5));
        if (options.failFirst && call === 1) throw new Error('SlowDown');
        uploads.push({ key: command.input.Key!, body: command.input.Body as string });
        return {};
      } finally {
        inFlight--;
      }
    },
  };
  return { client: client as unknown as S3Client, uploads, state };
}

const storedRecords = (uploads: Array<{ body: string }>): number[] =>
  uploads.flatMap((u) =>
    u.body
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { origin: { record: number } }).origin.record),
  );

describe('S3 dead letter', () => {
  it('keeps at most two uploads in flight, however many batches fill up, and stores every entry', async () => {
    const s3 = fakeS3();
    const dl = s3DeadLetter(s3.client, 's3://bucket/dead-letters/', { maxEntries: 10 });
    await Promise.all(Array.from({ length: 500 }, (_, i) => dl.write(entry(i + 1))));
    await dl.close();
    expect(s3.state.peak).toBe(2);
    expect(s3.uploads).toHaveLength(50);
    expect(storedRecords(s3.uploads).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 500 }, (_, i) => i + 1),
    );
    expect(s3.uploads[0]!.key).toMatch(/^dead-letters\/\d{4}\/\d\d\/\d\d\/[0-9TZ-]+-[0-9a-f-]{36}\.ndjson$/);
  });

  it('fails the entries of an upload that failed, and still stores the later ones', async () => {
    const s3 = fakeS3({ failFirst: true });
    const dl = s3DeadLetter(s3.client, 's3://bucket/dl', { maxEntries: 2, maxUploads: 1 });
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => dl.write(entry(i + 1))));
    await dl.close();
    expect(results.map((r) => r.status)).toEqual([
      'rejected',
      'rejected',
      'fulfilled',
      'fulfilled',
      'fulfilled',
      'fulfilled',
    ]);
    expect(storedRecords(s3.uploads)).toEqual([3, 4, 5, 6]);
    expect(dl.pendingBytes).toBe(0);
  });

  it('uploads a partial batch at once when producers wait for room, instead of after its delay', async () => {
    const s3 = fakeS3({ delayMs: 1 });
    const dl = s3DeadLetter(s3.client, 's3://bucket/dl/', {
      maxEntries: 500,
      maxDelayMs: 600_000,
      maxPendingBytes: 512,
    });
    const written = Array.from({ length: 10 }, (_, i) => dl.write(entry(i + 1)));
    await dl.whenRoom();
    expect(s3.uploads.length).toBeGreaterThan(0);
    await Promise.all(written);
    await dl.close();
    expect(storedRecords(s3.uploads)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });
});
