import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileStateStore, LocationLedger } from '../../../src/source/poll-state.js';

const at = (iso: string) => new Date(iso);
const HOUR = 3_600_000;

describe('LocationLedger', () => {
  it('reads what is new, passes what it read and what is older than the watermark', () => {
    const ledger = LocationLedger.starting(at('2026-11-29T10:00:00Z'));
    expect(ledger.decide('old', at('2026-11-29T09:59:59Z'))).toBe('seen');
    expect(ledger.decide('a', at('2026-11-29T10:00:00Z'))).toBe('read');
    ledger.done('a', at('2026-11-29T10:00:00Z'));
    expect(ledger.decide('a', at('2026-11-29T10:00:00Z'))).toBe('seen');
    // Rewritten since: a new last-modified time is a new object to read.
    expect(ledger.decide('a', at('2026-11-29T10:05:00Z'))).toBe('read');
  });

  it('moves the watermark to the newest time listed less the settle time and forgets the keys below it', () => {
    const ledger = LocationLedger.starting(at('2026-11-29T10:00:00Z'));
    ledger.done('a', at('2026-11-29T10:01:00Z'));
    ledger.done('b', at('2026-11-29T10:20:00Z'));
    ledger.endRound({ complete: true, newestModified: Date.parse('2026-11-29T10:20:00Z') }, 15 * 60_000);
    expect(ledger.state.watermark).toBe('2026-11-29T10:05:00.000Z');
    expect(Object.keys(ledger.state.recent)).toEqual(['b']);
    // A late object stamped before the newest one but after the watermark is still read.
    expect(ledger.decide('late', at('2026-11-29T10:06:00Z'))).toBe('read');
    expect(ledger.decide('a', at('2026-11-29T10:01:00Z'))).toBe('seen');
  });

  it('never moves the watermark back, nor on a listing that broke off', () => {
    const ledger = LocationLedger.starting(at('2026-11-29T10:00:00Z'));
    ledger.endRound({ complete: true, newestModified: Date.parse('2026-11-29T10:05:00Z') }, 15 * 60_000);
    expect(ledger.state.watermark).toBe('2026-11-29T10:00:00.000Z');
    ledger.endRound({ complete: false, newestModified: Date.parse('2026-11-29T12:00:00Z') }, 15 * 60_000);
    expect(ledger.state.watermark).toBe('2026-11-29T10:00:00.000Z');
    // Nothing listed at all: no newest time, no move.
    ledger.endRound({ complete: true, newestModified: Number.NEGATIVE_INFINITY }, 0);
    expect(ledger.state.watermark).toBe('2026-11-29T10:00:00.000Z');
  });

  it('retries a failed object every round, even once the watermark has passed it', () => {
    const ledger = LocationLedger.starting(at('2026-11-29T10:00:00Z'));
    const modified = at('2026-11-29T10:01:00Z');
    const now = at('2026-11-29T10:02:00Z');
    expect(ledger.failed('x', modified, { reason: 'delivery-failed' }, now, HOUR)).toBe('retry');
    ledger.endRound({ complete: true, newestModified: Date.parse('2026-11-29T11:00:00Z') }, 0);
    expect(ledger.decide('x', modified)).toBe('retry');
    ledger.done('x', modified);
    expect(ledger.state.retry).toEqual({});
    // Below the watermark by now: passed by time, not remembered by key.
    expect(ledger.state.recent).toEqual({});
    expect(ledger.decide('x', modified)).toBe('seen');
  });

  it('gives up on an unreadable object only after the give-up time, and never on one a sink has not taken', () => {
    const ledger = LocationLedger.starting(at('2026-11-29T10:00:00Z'));
    const modified = at('2026-11-29T10:01:00Z');
    const first = at('2026-11-29T10:02:00Z');
    expect(ledger.failed('x', modified, { reason: 'read-failed', error: 'AccessDenied' }, first, HOUR)).toBe(
      'retry',
    );
    const later = new Date(first.getTime() + HOUR - 1);
    expect(ledger.failed('x', modified, { reason: 'read-failed' }, later, HOUR)).toBe('retry');
    expect(ledger.state.retry.x).toMatchObject({ attempts: 2, firstFailedAt: first.toISOString() });
    expect(
      ledger.failed('x', modified, { reason: 'read-failed' }, new Date(first.getTime() + HOUR), HOUR),
    ).toBe('give-up');
    const sinkDown = new Date(first.getTime() + 10 * HOUR);
    expect(ledger.failed('y', modified, { reason: 'delivery-failed' }, first, HOUR)).toBe('retry');
    expect(ledger.failed('y', modified, { reason: 'delivery-failed' }, sinkDown, HOUR)).toBe('retry');
  });

  it('starts the count again for an object replaced since it first failed', () => {
    const ledger = LocationLedger.starting(at('2026-11-29T10:00:00Z'));
    const first = at('2026-11-29T10:02:00Z');
    ledger.failed('x', at('2026-11-29T10:01:00Z'), { reason: 'read-failed' }, first, HOUR);
    const replacedAt = new Date(first.getTime() + 2 * HOUR);
    expect(ledger.failed('x', at('2026-11-29T11:00:00Z'), { reason: 'read-failed' }, replacedAt, HOUR)).toBe(
      'retry',
    );
    expect(ledger.state.retry.x).toMatchObject({ attempts: 1, firstFailedAt: replacedAt.toISOString() });
  });

  it('keeps a failure across the end of its round until its object is read', () => {
    const ledger = LocationLedger.starting(at('2026-11-29T10:00:00Z'));
    const first = at('2026-11-29T10:02:00Z');
    ledger.failed('x', at('2026-11-29T10:01:00Z'), { reason: 'read-failed' }, first, HOUR);
    ledger.endRound({ complete: true, newestModified: 0 }, 0);
    expect(ledger.state.retry.x).toMatchObject({ attempts: 1, firstFailedAt: first.toISOString() });
  });
});

describe('the poll state in a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asc-poll-state-'));

  it('saves and loads the state as it was, creating the directory', async () => {
    const file = join(dir, 'nested', 'state.json');
    const ledger = LocationLedger.starting(at('2026-11-29T10:00:00Z'));
    ledger.done('a', at('2026-11-29T10:01:00Z'));
    ledger.failed(
      'b',
      at('2026-11-29T10:01:00Z'),
      { reason: 'read-failed', error: 'denied' },
      at('2026-11-29T10:02:00Z'),
      HOUR,
    );
    const state = { version: 1 as const, locations: { 's3://bucket/AWSLogs/': ledger.state } };
    await fileStateStore(file).save(state);
    expect(await fileStateStore(file).load()).toEqual(state);
  });

  it('has no state before the first save', async () => {
    expect(await fileStateStore(join(dir, 'absent.json')).load()).toBeUndefined();
  });

  it('refuses a file it did not write, naming it and the way out', async () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"version":1,"locations":{"s3://b/":{"watermark":"yesterday"}}}');
    await expect(fileStateStore(file).load()).rejects.toThrow(
      /broken\.json is not one it wrote.*move it away/,
    );
    writeFileSync(file, '{"version":1,');
    await expect(fileStateStore(file).load()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    // The refused file is left as it was for the operator to look at.
    expect(readFileSync(file, 'utf8')).toBe('{"version":1,');
  });
});
