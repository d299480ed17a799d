import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  cloudTrailObjectChunks,
  generateCloudTrailRecords,
  generateFlowLines,
  writeSampleObjects,
} from '../../../src/samples/index.js';

describe('sample generator', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(generateCloudTrailRecords({ seed: 5, count: 20 })).toEqual(
      generateCloudTrailRecords({ seed: 5, count: 20 }),
    );
    expect(generateCloudTrailRecords({ seed: 5, count: 20 })).not.toEqual(
      generateCloudTrailRecords({ seed: 6, count: 20 }),
    );
    expect(generateFlowLines({ seed: 1, count: 30, version: 8 })).toEqual(
      generateFlowLines({ seed: 1, count: 30, version: 8 }),
    );
  });

  it('includes the suspicious story: a failed console login burst and StopLogging', () => {
    const recs = generateCloudTrailRecords({ seed: 1, count: 5, suspicious: true });
    const failures = recs.filter(
      (r) =>
        r.eventName === 'ConsoleLogin' &&
        (r.responseElements as { ConsoleLogin?: string })?.ConsoleLogin === 'Failure',
    );
    expect(failures.length).toBeGreaterThanOrEqual(10);
    expect(recs.some((r) => r.eventName === 'StopLogging')).toBe(true);
  });

  it('streams a large object in chunks that form valid JSON', () => {
    const text = Buffer.concat([...cloudTrailObjectChunks({ seed: 3, targetBytes: 300_000 })]).toString(
      'utf8',
    );
    expect(text.length).toBeGreaterThanOrEqual(300_000);
    expect((JSON.parse(text) as { Records: unknown[] }).Records.length).toBeGreaterThan(100);
  });

  it('writes the committed sample objects byte for byte', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'asc-samples-'));
    try {
      const files = await writeSampleObjects(dir);
      expect(files).toHaveLength(4);
      const repoSamples = new URL('../../../samples/', import.meta.url);
      for (const file of files) {
        const rel = file.slice(dir.length + 1);
        const committed = await readFile(new URL(rel, repoSamples));
        expect(gunzipSync(await readFile(file)).equals(gunzipSync(committed))).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
