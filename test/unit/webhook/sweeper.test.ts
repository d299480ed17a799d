import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startSweeper } from '../../../src/webhook/sweeper.js';

function fakes() {
  const sweep = vi.fn(async () => []);
  const log = { info: vi.fn(), error: vi.fn() };
  return { runner: { sweep }, sweep, log };
}

describe('startSweeper', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sweeps every interval when live, until stopped', async () => {
    const { runner, sweep, log } = fakes();
    const stop = startSweeper(runner, { dryRun: false, sweepIntervalSeconds: 60 }, log);
    await vi.advanceTimersByTimeAsync(180_000);
    expect(sweep).toHaveBeenCalledTimes(3);
    stop();
    await vi.advanceTimersByTimeAsync(180_000);
    expect(sweep).toHaveBeenCalledTimes(3);
  });

  it('never sweeps in dry-run, and says so', async () => {
    const { runner, sweep, log } = fakes();
    const stop = startSweeper(runner, { dryRun: true, sweepIntervalSeconds: 60 }, log);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(sweep).not.toHaveBeenCalled();
    expect(log.info).toHaveBeenCalledWith(expect.stringContaining('not started'));
    stop();
  });

  it('does nothing when the interval is 0', async () => {
    const { runner, sweep, log } = fakes();
    startSweeper(runner, { dryRun: false, sweepIntervalSeconds: 0 }, log)();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(sweep).not.toHaveBeenCalled();
  });

  it('logs a failed sweep and keeps sweeping', async () => {
    const { runner, sweep, log } = fakes();
    sweep.mockRejectedValueOnce(new Error('throttled'));
    const stop = startSweeper(runner, { dryRun: false, sweepIntervalSeconds: 60 }, log);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(log.error).toHaveBeenCalledWith(expect.anything(), 'TTL sweep failed');
    expect(sweep).toHaveBeenCalledTimes(2);
    stop();
  });
});
