import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DeadLetter, directoryDeadLetter } from '../../../src/pipeline/dead-letter.js';
import { ObjectTracker } from '../../../src/pipeline/tracker.js';

const origin = { bucket: 'b', key: 'k', record: 1 };

function memoryDeadLetter(fail = false): DeadLetter & { entries: unknown[] } {
  const entries: unknown[] = [];
  return {
    entries,
    async write(entry) {
      if (fail) throw new Error('disk full');
      entries.push(entry);
    },
    async close() {},
  };
}

describe('ObjectTracker', () => {
  it('is delivered only when sealed and every delivery has settled', async () => {
    const tracker = new ObjectTracker(memoryDeadLetter());
    const a = tracker.delivery('hec', origin);
    const b = tracker.delivery('search', origin);
    let settled = false;
    const done = tracker.seal().then((o) => {
      settled = true;
      return o;
    });
    a.ack();
    await new Promise((r) => setTimeout(r, 5));
    expect(settled).toBe(false);
    b.ack();
    b.ack(); // a second settle is ignored
    expect((await done).status).toBe('delivered');
  });

  it('counts a rejected record as settled once its dead-letter entry is written', async () => {
    const dl = memoryDeadLetter();
    const tracker = new ObjectTracker(dl);
    tracker.delivery('search', origin).reject('mapper_parsing_exception', 'SEARCH_REJECTED', '{"a":1}');
    tracker.reject({
      code: 'DECODE_INVALID_JSON',
      reason: 'bad',
      origin: { ...origin, record: 2 },
      raw: '{',
    });
    const outcome = await tracker.seal();
    expect(outcome).toMatchObject({ status: 'delivered', deadLettered: 2 });
    expect(dl.entries).toEqual([
      {
        code: 'SEARCH_REJECTED',
        reason: 'mapper_parsing_exception',
        origin,
        sink: 'search',
        raw: '{"a":1}',
      },
      { code: 'DECODE_INVALID_JSON', reason: 'bad', origin: { ...origin, record: 2 }, raw: '{' },
    ]);
  });

  it('fails the object when a sink gives up or the dead letter cannot be written', async () => {
    const failing = new ObjectTracker(memoryDeadLetter());
    failing.delivery('hec', origin).fail(new Error('HEC down'));
    expect(await failing.seal()).toMatchObject({ status: 'failed' });

    const noDeadLetter = new ObjectTracker(memoryDeadLetter(true));
    noDeadLetter.delivery('hec', origin).reject('bad', 'HEC_REJECTED');
    const outcome = await noDeadLetter.seal();
    expect(outcome.status).toBe('failed');
    expect(outcome.errors[0]?.message).toBe('disk full');
  });
});

describe('ObjectTracker errors', () => {
  it('keeps the first three distinct errors of a failing object and counts every failure', async () => {
    const tracker = new ObjectTracker(memoryDeadLetter());
    for (let i = 1; i <= 10_000; i++) {
      tracker.delivery('search', { ...origin, record: i }).fail(new Error(`search down for record ${i}`));
    }
    const outcome = await tracker.seal();
    expect(outcome).toMatchObject({ status: 'failed', failures: 10_000 });
    expect(outcome.errors.map((e) => e.message)).toEqual([
      'search down for record 1',
      'search down for record 2',
      'search down for record 3',
    ]);
  });

  it('keeps an error shared by many records (one per failed batch) once, and the reasons that differ', async () => {
    const tracker = new ObjectTracker(memoryDeadLetter(true));
    const batch = new Error('HEC did not take the batch');
    for (let i = 1; i <= 500; i++) tracker.delivery('hec', { ...origin, record: i }).fail(batch);
    tracker.delivery('hec', origin).reject('bad', 'HEC_REJECTED');
    tracker.fail(new Error('truncated gzip'));
    const outcome = await tracker.seal();
    expect(outcome.failures).toBe(502);
    expect(outcome.errors.map((e) => e.message)).toEqual([
      'HEC did not take the batch',
      'truncated gzip',
      'disk full',
    ]);
  });

  it('reports no failures for a delivered object', async () => {
    const tracker = new ObjectTracker(memoryDeadLetter());
    tracker.delivery('hec', origin).ack();
    expect(await tracker.seal()).toMatchObject({ status: 'delivered', failures: 0, errors: [] });
  });
});

describe('ObjectTracker dead-letter count', () => {
  it('reports each entry by code only after the dead letter stored it, and never one it failed to store', async () => {
    const codes: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow: DeadLetter = {
      write: () => gate,
      async close() {},
    };
    const tracker = new ObjectTracker(slow, undefined, (code) => codes.push(code));
    tracker.delivery('search', origin).reject('bad', 'SEARCH_REJECTED');
    tracker.reject({ code: 'MAP_FAILED', reason: 'x', origin });
    await new Promise((r) => setTimeout(r, 5));
    expect(codes).toEqual([]);
    release();
    await tracker.seal();
    expect(codes).toEqual(['SEARCH_REJECTED', 'MAP_FAILED']);

    const none: string[] = [];
    const failing = new ObjectTracker(memoryDeadLetter(true), undefined, (code) => none.push(code));
    failing.delivery('hec', origin).reject('bad', 'HEC_REJECTED');
    expect((await failing.seal()).status).toBe('failed');
    expect(none).toEqual([]);
  });
});

describe('directoryDeadLetter', () => {
  it('appends one NDJSON line per entry, whole lines even when written concurrently', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-dl-'));
    const dl = directoryDeadLetter(dir);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        dl.write({ code: 'X', reason: `r${i}`, origin: { key: 'k', record: i + 1 } }),
      ),
    );
    await dl.close();
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const lines = readFileSync(join(dir, files[0]!), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(50);
    const records = lines.map((l) => JSON.parse(l).origin.record).sort((a: number, b: number) => a - b);
    expect(records).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(JSON.parse(lines[0]!).time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
