import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { MemoryAuditLog } from '../../../src/respond/audit.js';
import { ActionAlreadyRecordedError } from '../../../src/respond/errors.js';
import { idempotencyKey, ResponseRunner } from '../../../src/respond/runner.js';
import { S3ActionStore } from '../../../src/respond/s3-store.js';
import type { ActionRecord } from '../../../src/respond/store.js';
import type { Responder } from '../../../src/respond/types.js';
import { FakeS3 } from './fake-s3.js';
import { FakeWaf } from './fake-waf.js';
import { wafRunner } from './waf-runner.js';

const LOCATION = 's3://asc-state/response-state';

function record(key: string, over: Partial<ActionRecord> = {}): ActionRecord {
  return {
    key,
    action: 'waf-block-ip',
    target: '45.155.204.10/32',
    alertId: 'a1',
    requester: { source: 'webhook:kibana' },
    appliedAt: '2026-01-01T00:00:00.000Z',
    expiresAt: '2026-01-02T00:00:00.000Z',
    prior: { set: 'v4', added: true },
    ...over,
  };
}

describe('S3ActionStore', () => {
  it('writes one object per record and one per undo, and a second store (another container) reads them', async () => {
    const s3 = new FakeS3();
    const first = new S3ActionStore(s3.client, LOCATION);
    await first.add(record('k1'));
    await first.add(record('k2', { target: '45.155.204.11/32', appliedAt: '2026-01-01T00:01:00.000Z' }));
    expect([...s3.objects.keys()]).toEqual([
      'response-state/records/k1/000001.applied.json',
      'response-state/records/k2/000001.applied.json',
    ]);

    const second = new S3ActionStore(s3.client, LOCATION);
    expect(await second.get('k1')).toEqual(record('k1'));
    expect((await second.allActive()).map((r) => r.key)).toEqual(['k1', 'k2']);
    await second.markUndone('k1', new Date('2026-01-01T01:00:00Z'));
    expect(s3.objects.has('response-state/records/k1/000001.undone.json')).toBe(true);

    // The first store's earlier reads do not hide the undo: every read asks S3.
    expect((await first.get('k1'))?.undoneAt).toBe('2026-01-01T00:00:00.000Z');
    expect((await first.allActive()).map((r) => r.key)).toEqual(['k2']);
    expect(await first.active('waf-block-ip', '45.155.204.10/32')).toEqual([]);
    expect(await first.get('missing')).toBeUndefined();
  });

  it('records an alert once: a second add of an active key fails, also when the list raced the put', async () => {
    const s3 = new FakeS3();
    const a = new S3ActionStore(s3.client, LOCATION);
    const b = new S3ActionStore(s3.client, LOCATION);
    await a.add(record('k1'));
    await expect(b.add(record('k1', { alertId: 'other' }))).rejects.toBeInstanceOf(
      ActionAlreadyRecordedError,
    );

    // Both listed before either wrote: the conditional put (If-None-Match: *) decides.
    s3.beforePut = async (input) => {
      s3.beforePut = undefined;
      if (String(input.Key).endsWith('k2/000001.applied.json')) await a.add(record('k2'));
    };
    await expect(b.add(record('k2', { alertId: 'late' }))).rejects.toBeInstanceOf(ActionAlreadyRecordedError);
    expect((await b.get('k2'))?.alertId).toBe('a1');
  });

  it('opens a new generation when an undone alert acts again, and keeps the first undo marker', async () => {
    const s3 = new FakeS3();
    const store = new S3ActionStore(s3.client, LOCATION);
    await store.add(record('k1'));
    await store.markUndone('k1', new Date());
    await store.markUndone('k1', new Date()); // a person and the sweeper at once: no error, no rewrite
    await store.add(record('k1', { appliedAt: '2026-01-03T00:00:00.000Z' }));
    expect([...s3.objects.keys()].sort()).toEqual([
      'response-state/records/k1/000001.applied.json',
      'response-state/records/k1/000001.undone.json',
      'response-state/records/k1/000002.applied.json',
    ]);
    expect(await store.get('k1')).toMatchObject({ appliedAt: '2026-01-03T00:00:00.000Z' });
    expect((await store.get('k1'))?.undoneAt).toBeUndefined();
    expect((await store.active('waf-block-ip', '45.155.204.10/32')).map((r) => r.appliedAt)).toEqual([
      '2026-01-03T00:00:00.000Z',
    ]);
  });

  it('pages through long listings and returns active records newest first', async () => {
    const s3 = new FakeS3();
    s3.pageSize = 2;
    const store = new S3ActionStore(s3.client, 's3://asc-state');
    for (let i = 0; i < 5; i++)
      await store.add(record(`k${i}`, { appliedAt: `2026-01-01T00:0${i}:00.000Z`, alertId: `a${i}` }));
    const fresh = new S3ActionStore(s3.client, 's3://asc-state');
    expect((await fresh.active('waf-block-ip', '45.155.204.10/32')).map((r) => r.alertId)).toEqual([
      'a4',
      'a3',
      'a2',
      'a1',
      'a0',
    ]);
  });

  it('retries a conditional put that S3 answers with 409 while another is in flight', async () => {
    const s3 = new FakeS3();
    s3.conflictsNext = 2;
    await new S3ActionStore(s3.client, LOCATION).add(record('k1'));
    expect(s3.objects.size).toBe(1);
  });

  it('ignores objects that are not its own under the prefix', async () => {
    const s3 = new FakeS3();
    s3.objects.set('response-state/records/README', { body: 'x', lastModified: new Date() });
    s3.objects.set('response-state/records/k9/notes.txt', { body: 'x', lastModified: new Date() });
    expect(await new S3ActionStore(s3.client, LOCATION).allActive()).toEqual([]);
  });
});

describe('two runners sharing one S3 store (two Lambda containers)', () => {
  function runnerOver(s3: FakeS3, waf: FakeWaf) {
    return wafRunner({
      waf,
      store: new S3ActionStore(s3.client, LOCATION),
      now: () => new Date('2026-01-01T00:00:00Z'),
    });
  }
  const block = (alertId: string) => ({
    action: 'waf-block-ip' as const,
    target: '45.155.204.10',
    alertId,
    requester: { source: 'webhook:kibana' },
    mode: 'auto' as const,
  });

  it('the second skips an alert the first applied', async () => {
    const s3 = new FakeS3();
    const waf = new FakeWaf();
    expect((await runnerOver(s3, waf).runner.run(block('a1'))).status).toBe('applied');
    const second = await runnerOver(s3, waf).runner.run(block('a1'));
    expect(second).toMatchObject({ status: 'skipped', reason: expect.stringContaining('already applied') });
    expect(waf.updates).toBe(1);
  });

  /** A responder whose apply lets container A act and record first, then changes `changes` itself. */
  function racingResponder(s3: FakeS3, changes: string[]) {
    const undone: unknown[] = [];
    const responder: Responder<null, { by: string }> = {
      action: 'waf-block-ip',
      normalise: (t) => t,
      guard: () => {},
      plan: async (target) => ({
        action: 'waf-block-ip',
        target,
        changes: ['add'],
        warnings: [],
        detail: null,
      }),
      async apply() {
        await new S3ActionStore(s3.client, LOCATION).add(
          record(idempotencyKey('a1', 'waf-block-ip', '45.155.204.10'), {
            target: '45.155.204.10',
            prior: { by: 'A' },
          }),
        );
        return { changes, requestIds: [], prior: { by: 'B' } };
      },
      async undo(prior) {
        undone.push(prior);
        return { changes: [`revert ${prior.by}`], requestIds: [], warnings: [] };
      },
    };
    const config = validateConfig({ respond: { dryRun: false, enabled: { 'waf-block-ip': true } } });
    const runner = new ResponseRunner(config.respond, {
      responders: { 'waf-block-ip': responder as Responder },
      store: new S3ActionStore(s3.client, LOCATION),
      audit: new MemoryAuditLog(),
    });
    return { runner, undone };
  }

  it('when both act at once and this one changed nothing, it reports the other’s record and stores none', async () => {
    const s3 = new FakeS3();
    const { runner } = racingResponder(s3, []);
    const outcome = await runner.run(block('a1'));
    expect(outcome).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('by another receiver'),
    });
    expect([...s3.objects.keys()].filter((k) => k.endsWith('.applied.json'))).toHaveLength(1);
  });

  it('when both act at once and both changed something, both records are kept and undo reverts both', async () => {
    const s3 = new FakeS3();
    const { runner, undone } = racingResponder(s3, ['add']);
    expect((await runner.run(block('a1'))).status).toBe('applied');
    const applied = [...s3.objects.keys()].filter((k) => k.endsWith('.applied.json'));
    expect(applied).toHaveLength(2);
    expect(applied.some((k) => k.includes(':concurrent:'))).toBe(true);
    const undo = await runner.undo('waf-block-ip', '45.155.204.10', { source: 'cli' });
    expect(undo.status).toBe('undone');
    expect(undone).toEqual(expect.arrayContaining([{ by: 'A' }, { by: 'B' }]));
    expect(await new S3ActionStore(s3.client, LOCATION).allActive()).toEqual([]);
  });
});

describe('S3ActionStore compaction (respond.stateRetentionDays)', () => {
  const DAY = 86_400_000;
  const T0 = Date.parse('2026-01-01T00:00:00Z');
  /** A bucket whose clock (LastModified of every put) the test moves. */
  function bucket() {
    const s3 = new FakeS3();
    const clock = { t: T0 };
    s3.now = () => new Date(clock.t);
    return { s3, clock, store: new S3ActionStore(s3.client, LOCATION) };
  }
  const keys = (s3: FakeS3) =>
    [...s3.objects.keys()].map((k) => k.slice('response-state/records/'.length)).sort();

  it('deletes generations undone before the cutoff, and never a record that is not undone', async () => {
    const { s3, clock, store } = bucket();
    await store.add(record('done-old')); // undone on day 0
    await store.markUndone('done-old', new Date());
    await store.add(record('active-old', { expiresAt: undefined })); // never undone: undo still needs it
    await store.add(record('partial:1', { prior: { half: true } })); // a half-done apply: undo reverts it
    await store.add(record('again')); // undone on day 0, then the alert acted again
    await store.markUndone('again', new Date());
    clock.t = T0 + 10 * DAY;
    await store.add(record('again', { appliedAt: '2026-01-11T00:00:00.000Z' }));
    await store.add(record('done-recent'));
    await store.markUndone('done-recent', new Date()); // undone on day 10
    const before = keys(s3);

    // 90 days after day 0: only what was undone on day 0 is due.
    const cutoff = new Date(T0 + 5 * DAY);
    const planned = await store.compact(cutoff, { dryRun: true });
    expect(planned.removed.map((r) => r.key)).toEqual(['again', 'done-old']);
    expect(keys(s3)).toEqual(before);
    expect(s3.deleted).toEqual([]);

    const done = await store.compact(cutoff);
    expect(done.removed).toEqual(planned.removed);
    expect(done.more).toBeUndefined();
    expect(keys(s3)).toEqual([
      'active-old/000001.applied.json',
      'again/000002.applied.json',
      'done-recent/000001.applied.json',
      'done-recent/000001.undone.json',
      'partial:1/000001.applied.json',
    ]);
    // The applied object goes before its undo marker.
    expect(s3.deleted.indexOf('response-state/records/done-old/000001.applied.json')).toBeLessThan(
      s3.deleted.indexOf('response-state/records/done-old/000001.undone.json'),
    );

    const fresh = new S3ActionStore(s3.client, LOCATION);
    expect((await fresh.allActive()).map((r) => r.key)).toEqual(['active-old', 'partial:1', 'again']);
    expect(await fresh.get('done-old')).toBeUndefined();
    expect((await fresh.get('again'))?.appliedAt).toBe('2026-01-11T00:00:00.000Z');
    expect((await fresh.get('done-recent'))?.undoneAt).toBe('2026-01-11T00:00:00.000Z');
    expect((await store.compact(cutoff)).removed).toEqual([]);
  });

  it('keeps a finished generation while an older one of the key is not undone', async () => {
    const { s3, store } = bucket();
    // Generation 1 was never undone (a record written outside this store's add): 2 must not be removed
    // from under it, or 1 would read as the key's latest, active again.
    s3.objects.set('response-state/records/k/000001.applied.json', {
      body: JSON.stringify(record('k', { alertId: 'first' })),
      lastModified: new Date(T0),
    });
    s3.objects.set('response-state/records/k/000002.applied.json', {
      body: JSON.stringify(record('k', { alertId: 'second' })),
      lastModified: new Date(T0),
    });
    s3.objects.set('response-state/records/k/000002.undone.json', { body: '{}', lastModified: new Date(T0) });
    expect((await store.compact(new Date(T0 + 100 * DAY))).removed).toEqual([]);
    expect(s3.objects.size).toBe(3);
  });

  it('a compaction cut short leaves an undo marker alone, which no read takes for a new record', async () => {
    const { s3, clock, store } = bucket();
    await store.add(record('k1', { alertId: 'first' }));
    await store.markUndone('k1', new Date());
    s3.failDelete = (key) => key.endsWith('.undone.json');
    await expect(store.compact(new Date(T0 + DAY))).rejects.toThrow(/InternalError/);
    expect(keys(s3)).toEqual(['k1/000001.undone.json']);
    s3.failDelete = undefined;

    const other = new S3ActionStore(s3.client, LOCATION);
    expect(await other.get('k1')).toBeUndefined();
    expect(await other.allActive()).toEqual([]);
    // The alert acts again: its record opens generation 2, not 1 under the old marker (it would read undone).
    clock.t = T0 + 2 * DAY;
    await other.add(record('k1', { alertId: 'second' }));
    expect(keys(s3)).toEqual(['k1/000001.undone.json', 'k1/000002.applied.json']);
    expect(await other.get('k1')).toMatchObject({ alertId: 'second' });
    expect((await other.get('k1'))?.undoneAt).toBeUndefined();
    expect((await other.allActive()).map((r) => r.alertId)).toEqual(['second']);

    // The next compaction removes the lone marker and leaves the live record.
    expect((await other.compact(new Date(T0 + DAY))).removed).toEqual([
      { key: 'k1', undoneAt: '2026-01-01T00:00:00.000Z' },
    ]);
    expect(keys(s3)).toEqual(['k1/000002.applied.json']);
  });

  it('does not answer from its cache for a key compacted away and recorded again by another store', async () => {
    const { s3, clock, store } = bucket();
    await store.add(record('k1', { alertId: 'old', prior: { old: true } }));
    expect((await store.allActive()).map((r) => r.alertId)).toEqual(['old']); // cached
    await store.markUndone('k1', new Date());
    await store.compact(new Date(T0 + DAY));
    expect(s3.objects.size).toBe(0);
    clock.t = T0 + 100 * DAY;
    // Another container records the key anew: generation 1 again, another body.
    await new S3ActionStore(s3.client, LOCATION).add(record('k1', { alertId: 'new', prior: { new: true } }));
    expect(await store.get('k1')).toMatchObject({ alertId: 'new', prior: { new: true } });
    expect((await store.active('waf-block-ip', '45.155.204.10/32')).map((r) => r.prior)).toEqual([
      { new: true },
    ]);
  });

  it('removes at most a batch per call, oldest first, and says when more are due', async () => {
    const { s3, clock } = bucket();
    const store = new S3ActionStore(s3.client, LOCATION, { compactBatch: 2 });
    for (const [i, key] of ['c', 'a', 'b'].entries()) {
      clock.t = T0 + i * 1000;
      await store.add(record(key));
      await store.markUndone(key, new Date());
    }
    const first = await store.compact(new Date(T0 + DAY));
    expect(first).toEqual({
      removed: [
        { key: 'c', undoneAt: '2026-01-01T00:00:00.000Z' },
        { key: 'a', undoneAt: '2026-01-01T00:00:01.000Z' },
      ],
      more: true,
    });
    expect(await store.compact(new Date(T0 + DAY))).toEqual({
      removed: [{ key: 'b', undoneAt: '2026-01-01T00:00:02.000Z' }],
    });
    expect(s3.objects.size).toBe(0);
  });
});

describe('a sweep over the S3 store', () => {
  it('removes the records of blocks it expired once the retention has passed, and keeps live ones', async () => {
    const s3 = new FakeS3();
    const waf = new FakeWaf();
    const clock = { t: Date.parse('2026-01-01T00:00:00Z') };
    s3.now = () => new Date(clock.t);
    const { runner } = wafRunner({
      waf,
      respond: { stateRetentionDays: 30 },
      store: new S3ActionStore(s3.client, LOCATION),
      now: () => new Date(clock.t),
    });
    const alert = (alertId: string, target: string, ttlSeconds?: number) => ({
      action: 'waf-block-ip' as const,
      target,
      alertId,
      requester: { source: 'webhook:kibana' },
      mode: 'auto' as const,
      ttlSeconds,
    });
    await runner.run(alert('a1', '45.155.204.10'));
    await runner.run(alert('a2', '45.155.204.11', 0)); // until undone
    clock.t += 3601_000;
    expect((await runner.sweep()).map((o) => o.status)).toEqual(['undone']);
    expect(s3.objects.size).toBe(3);
    clock.t += 29 * 86_400_000;
    await runner.sweep();
    expect(s3.objects.size).toBe(3);
    clock.t += 86_400_000;
    await runner.sweep();
    expect([...s3.objects.keys()]).toEqual([
      `response-state/records/${idempotencyKey('a2', 'waf-block-ip', '45.155.204.11/32')}/000001.applied.json`,
    ]);
    expect(waf.addresses).toEqual(['45.155.204.11/32']);
  });
});
