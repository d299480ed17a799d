import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { respondCommand } from '../../../src/commands/respond.js';
import { JsonlActionStore } from '../../../src/respond/store.js';

let exitCodeBefore: typeof process.exitCode;
beforeEach(() => {
  exitCodeBefore = process.exitCode;
});
afterEach(() => {
  process.exitCode = exitCodeBefore;
});

/** A config whose action store holds one WAF block undone years ago, well past the 90-day retention. */
async function storeWithFinishedRecord() {
  const dir = mkdtempSync(join(tmpdir(), 'asc-respond-cli-'));
  const stateFile = join(dir, 'state.jsonl');
  const store = new JsonlActionStore(stateFile);
  await store.add({
    key: 'a1:waf-block-ip:45.155.204.1',
    action: 'waf-block-ip',
    target: '45.155.204.1',
    alertId: 'a1',
    requester: { source: 'cli' },
    appliedAt: '2020-01-01T00:00:00.000Z',
    prior: {},
  });
  await store.markUndone('a1:waf-block-ip:45.155.204.1', new Date('2020-01-02T00:00:00Z'));
  const config = join(dir, 'config.json');
  writeFileSync(
    config,
    JSON.stringify({
      observe: { logLevel: 'silent' },
      respond: { stateFile, auditLog: join(dir, 'audit.jsonl') },
    }),
  );
  return { config, stateFile };
}

describe('respond sweep', () => {
  it('--plan leaves the action store as it is; without it, records past the retention are removed', async () => {
    const { config, stateFile } = await storeWithFinishedRecord();
    const before = readFileSync(stateFile, 'utf8');
    expect(before.trim().split('\n')).toHaveLength(2);

    await respondCommand(new Command(), 'sweep', undefined, undefined, { config, plan: true }, () => {});
    expect(readFileSync(stateFile, 'utf8')).toBe(before);

    await respondCommand(new Command(), 'sweep', undefined, undefined, { config }, () => {});
    expect(readFileSync(stateFile, 'utf8')).toBe('');
  });
});
