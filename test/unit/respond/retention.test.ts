import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { type ActionRecord, JsonlActionStore } from '../../../src/respond/store.js';
import { wafRunner } from './waf-runner.js';

/**
 * respond.stateRetentionDays: the sweep removes the records finished for good (undone, by a person or by
 * the TTL sweep) once they are older than the retention, and never a record that undo may still need.
 */

const DAY = 86_400_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const requester = { source: 'webhook:kibana', rule: 'brute force' };

function setup(respond: Record<string, unknown> = {}, file = stateFile()) {
  const clock = { t: T0 };
  const logs: { fields: Record<string, unknown>; msg: string }[] = [];
  const log = {
    info: (fields: Record<string, unknown>, msg: string) => void logs.push({ fields, msg }),
    warn: () => {},
    error: (fields: Record<string, unknown>, msg: string) => void logs.push({ fields, msg }),
  };
  const { runner, waf, audit, config } = wafRunner({
    respond,
    store: new JsonlActionStore(file),
    log: log as never,
    now: () => new Date(clock.t),
  });
  return { runner, waf, audit, clock, file, config, logs };
}

function stateFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'asc-retention-')), 'state.jsonl');
}

const block = (alertId: string, target: string, ttlSeconds?: number) => ({
  action: 'waf-block-ip' as const,
  target,
  alertId,
  requester,
  mode: 'auto' as const,
  ttlSeconds,
});

function lines(file: string): { op: string; key: string; alertId?: string }[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('the sweep compacts the action store (JSONL file)', () => {
  it('removes a block it expired once the retention has passed, and keeps blocks that are live', async () => {
    const { runner, waf, clock, file, logs } = setup();
    expect((await runner.run(block('a1', '45.155.204.1'))).status).toBe('applied');
    expect((await runner.run(block('a2', '45.155.204.2', 0))).status).toBe('applied'); // until undone
    clock.t += 3601_000;
    expect((await runner.sweep()).map((o) => [o.target, o.status])).toEqual([['45.155.204.1/32', 'undone']]);
    expect(lines(file).map((l) => l.op)).toEqual(['applied', 'applied', 'undone']);

    // The default retention is 90 days: the day before, nothing goes.
    clock.t += 89 * DAY;
    expect(await runner.sweep()).toEqual([]);
    expect(lines(file)).toHaveLength(3);
    clock.t += DAY;
    expect(await runner.sweep()).toEqual([]);
    expect(lines(file)).toEqual([expect.objectContaining({ op: 'applied', alertId: 'a2' })]);
    expect(logs.at(-1)?.msg).toMatch(/^action store: removed 1 record\(s\) undone before /);
    expect(waf.addresses).toEqual(['45.155.204.2/32']);

    // What stays reads as before: the live block is undone from its record, by this or another process.
    expect((await new JsonlActionStore(file).allActive()).map((r) => r.alertId)).toEqual(['a2']);
    expect((await runner.undo('waf-block-ip', '45.155.204.2', { source: 'cli' })).status).toBe('undone');
    expect(waf.addresses).toEqual([]);
    // A removed record answered for its alert no more than an undone one did: still firing, it acts again.
    expect((await runner.run(block('a1', '45.155.204.1'))).status).toBe('applied');
  });

  it('keeps a record that is not undone however old: an IAM disable, a half-done action', async () => {
    const file = stateFile();
    const store = new JsonlActionStore(file);
    const record = (key: string, over: Partial<ActionRecord> = {}): ActionRecord => ({
      key,
      action: 'iam-disable-user',
      target: 'user/mallory',
      alertId: key,
      requester,
      appliedAt: new Date(T0).toISOString(),
      prior: { kind: 'user', name: 'mallory' },
      ...over,
    });
    await store.add(record('k1'));
    await store.add(record('k1:partial:1'));
    await store.add(record('k2'));
    await store.markUndone('k2', new Date(T0));
    const result = await store.compact(new Date(T0 + 1000 * DAY));
    expect(result.removed).toEqual([{ key: 'k2', undoneAt: '2026-01-01T00:00:00.000Z' }]);
    expect(lines(file).map((l) => l.key)).toEqual(['k1', 'k1:partial:1']);
    expect((await new JsonlActionStore(file).allActive()).map((r) => r.key)).toEqual(['k1', 'k1:partial:1']);
  });

  it('removes the undone generation of a key and keeps the live one that followed it', async () => {
    const { runner, clock, file } = setup({ stateRetentionDays: 30 });
    await runner.run(block('a1', '45.155.204.1'));
    await runner.undo('waf-block-ip', '45.155.204.1', { source: 'cli' });
    clock.t += DAY;
    await runner.run({ ...block('a1', '45.155.204.1'), ttlSeconds: 0 }); // the alert fires again
    clock.t += 31 * DAY;
    await runner.sweep();
    expect(lines(file).map((l) => l.op)).toEqual(['applied']);
    const [record] = await new JsonlActionStore(file).allActive();
    expect(record?.appliedAt).toBe(new Date(T0 + DAY).toISOString());
  });

  it('reads the file, not its copy: a line another process appended since is kept', async () => {
    const { runner, clock, file } = setup({ stateRetentionDays: 1 });
    await runner.run(block('a1', '45.155.204.1', 0));
    await runner.run(block('a2', '45.155.204.2', 0));
    // A person's `respond undo` in another process: this runner's copy does not see it.
    const cli = new JsonlActionStore(file);
    const [first] = await cli.active('waf-block-ip', '45.155.204.1/32');
    await cli.markUndone(first!.key, new Date(T0));
    await cli.add({ ...first!, key: 'by-cli', alertId: 'manual', appliedAt: new Date(T0).toISOString() });
    clock.t += 2 * DAY;
    await runner.sweep();
    expect(lines(file).map((l) => [l.op, l.alertId])).toEqual([
      ['applied', 'a2'],
      ['applied', 'manual'],
    ]);
    expect(readdirSync(join(file, '..'))).toEqual(['state.jsonl']);
  });

  it('only reports what it would remove when planned, and plans the expiry of blocks too', async () => {
    const { runner, waf, clock, file, logs } = setup({ stateRetentionDays: 1 });
    await runner.run(block('a1', '45.155.204.1'));
    await runner.undo('waf-block-ip', '45.155.204.1', { source: 'cli' });
    await runner.run(block('a2', '45.155.204.2'));
    clock.t += 2 * DAY;
    const before = readFileSync(file, 'utf8');
    const planned = await runner.sweep('plan');
    expect(planned.map((o) => [o.target, o.status])).toEqual([['45.155.204.2/32', 'planned']]);
    expect(waf.addresses).toEqual(['45.155.204.2/32']);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(logs.at(-1)).toMatchObject({
      msg: expect.stringMatching(/^action store: would remove 1 record\(s\)/),
      fields: { dryRun: true, removed: 1, retentionDays: 1 },
    });
    const report = await runner.compact('plan');
    expect(report).toMatchObject({ dryRun: true, removed: [{ undoneAt: new Date(T0).toISOString() }] });
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('keeps every record with a retention of 0', async () => {
    const { runner, clock, file } = setup({ stateRetentionDays: 0 });
    await runner.run(block('a1', '45.155.204.1'));
    clock.t += 3601_000;
    await runner.sweep();
    clock.t += 10_000 * DAY;
    await runner.sweep();
    expect(lines(file).map((l) => l.op)).toEqual(['applied', 'undone']);
    expect(await runner.compact()).toBeUndefined();
  });

  it('logs a compaction that fails and still returns the expiry outcomes', async () => {
    const { runner, clock, logs } = setup();
    await runner.run(block('a1', '45.155.204.1'));
    clock.t += 3601_000;
    (runner as unknown as { compact: () => Promise<never> }).compact = async () => {
      throw new Error('AccessDenied: s3:DeleteObject');
    };
    expect((await runner.sweep()).map((o) => o.status)).toEqual(['undone']);
    expect(logs.at(-1)?.msg).toMatch(/compaction failed/);
  });
});

describe('respond.stateRetentionDays', () => {
  it('defaults to 90 days and refuses what is not a whole number of days', () => {
    expect(validateConfig({}).respond.stateRetentionDays).toBe(90);
    expect(validateConfig({ respond: { stateRetentionDays: 0 } }).respond.stateRetentionDays).toBe(0);
    expect(() => validateConfig({ respond: { stateRetentionDays: -1 } })).toThrow(/stateRetentionDays/);
    expect(() => validateConfig({ respond: { stateRetentionDays: 1.5 } })).toThrow(/stateRetentionDays/);
  });
});
