import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { directoryDeadLetter } from '../../../src/pipeline/dead-letter.js';

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
