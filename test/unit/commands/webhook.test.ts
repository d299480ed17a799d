import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { webhookServeCommand } from '../../../src/commands/webhook.js';
import { type ConnectorConfig, validateConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/observe/index.js';

// No socket, no AWS: the command's own wiring (dry-run → runner and sweeper) is what is under test.
const state = vi.hoisted(() => ({
  config: undefined as unknown as ConnectorConfig,
  sweep: undefined as unknown as () => Promise<unknown[]>,
  runnerDryRun: [] as boolean[],
}));

vi.mock('../../../src/commands/context.js', () => ({
  commandContext: () => ({ config: state.config, log: createLogger('silent') }),
}));

vi.mock('../../../src/respond/index.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  createResponseRunner: (config: ConnectorConfig) => {
    state.runnerDryRun.push(config.respond.dryRun);
    return { run: vi.fn(), sweep: state.sweep };
  },
}));

vi.mock('../../../src/webhook/index.js', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  createWebhookApp: async () => ({ listen: async () => 'http://127.0.0.1:8787', close: async () => {} }),
}));

/** Runs `webhook serve` for ten minutes of fake time, then stops it as SIGTERM would. */
async function serveTenMinutes(options: { dryRun?: boolean }, respond: Record<string, unknown>) {
  state.config = validateConfig({
    webhook: { token: 'tok-3f9a1c7e5b2d4a6f8e0c' },
    respond: { sweepIntervalSeconds: 60, ...respond },
  });
  const before = new Set(process.listeners('SIGTERM'));
  const done = webhookServeCommand(new Command(), options);
  await vi.advanceTimersByTimeAsync(600_000);
  const stop = process.listeners('SIGTERM').find((l) => !before.has(l));
  if (!stop) throw new Error('webhook serve did not start');
  process.removeListener('SIGTERM', stop);
  process.removeListener('SIGINT', stop);
  (stop as () => void)();
  await done;
}

describe('webhook serve', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    state.sweep = vi.fn(async () => []);
    state.runnerDryRun = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sweeps expired WAF blocks every interval when live', async () => {
    await serveTenMinutes({}, { dryRun: false });
    expect(state.runnerDryRun).toEqual([false]);
    expect(state.sweep).toHaveBeenCalledTimes(10);
  });

  it.each([
    ['the --dry-run flag', { dryRun: true }, { dryRun: false }],
    ['respond.dryRun in config', {}, { dryRun: true }],
  ])('never sweeps under %s', async (_label, options, respond) => {
    await serveTenMinutes(options, respond);
    expect(state.runnerDryRun).toEqual([true]);
    expect(state.sweep).not.toHaveBeenCalled();
  });
});
