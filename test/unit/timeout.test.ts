import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withTimeout } from '../../src/timeout.js';

describe('withTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("resolves with the work's value when the work settles first, and clears the timer", async () => {
    const raced = withTimeout(Promise.resolve('done'), 1000, 'timeout');
    await expect(raced).resolves.toBe('done');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('resolves with the time-out value when time runs out first, and leaves no timer', async () => {
    const raced = withTimeout(new Promise<string>(() => {}), 1000, 'timeout');
    await vi.advanceTimersByTimeAsync(999);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(raced).resolves.toBe('timeout');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects as the work does, and clears the timer', async () => {
    const raced = withTimeout(Promise.reject(new Error('broken')), 1000, 'timeout');
    await expect(raced).rejects.toThrow('broken');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('waits as long as setTimeout can for an unbounded time instead of firing at once', async () => {
    let settled = false;
    const raced = withTimeout(new Promise<string>(() => {}), Infinity, 'timeout').then((v) => {
      settled = true;
      return v;
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(2 ** 31);
    await expect(raced).resolves.toBe('timeout');
  });
});

describe('withTimeout keeps the process alive only while the race is on', () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

  it('lets go of its timer once the work has won', async () => {
    const before = timers();
    let finish!: (value: string) => void;
    const raced = withTimeout(new Promise<string>((r) => (finish = r)), 60_000, 'timeout');
    expect(timers()).toBe(before + 1);
    finish('done');
    await expect(raced).resolves.toBe('done');
    expect(timers()).toBe(before);
  });

  it('with unref, does not hold the process while the race is on either', async () => {
    const before = timers();
    let finish!: (value: string) => void;
    const raced = withTimeout(new Promise<string>((r) => (finish = r)), 60_000, 'timeout', { unref: true });
    // An unref'd timer is not an active resource.
    expect(timers()).toBe(before);
    finish('done');
    await expect(raced).resolves.toBe('done');
  });
});
