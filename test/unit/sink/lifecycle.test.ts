import { describe, expect, it } from 'vitest';
import { InFlight, SinkLifecycle } from '../../../src/sink/lifecycle.js';

describe('InFlight', () => {
  it('counts work until it settles, hands on its outcome, and settled() never rejects', async () => {
    const running = new InFlight();
    let finish!: () => void;
    const ok = running.add(new Promise<void>((r) => (finish = r)));
    const failed = running.add(Promise.reject(new Error('boom')));
    expect(running.size).toBe(2);
    await expect(failed).rejects.toThrow('boom');
    expect(running.size).toBe(1);
    finish();
    await running.settled();
    await ok;
    expect(running.size).toBe(0);
  });
});

describe('SinkLifecycle', () => {
  it('is closing from the call on, drains before it releases, and closes once', async () => {
    const lifecycle = new SinkLifecycle();
    const steps: string[] = [];
    let drained!: () => void;
    const drain = () => {
      steps.push('drain');
      return new Promise<void>((r) => (drained = r));
    };
    const release = async () => {
      steps.push('release');
    };
    const first = lifecycle.close(drain, release);
    expect(lifecycle.closing).toBe(true);
    const second = lifecycle.close(drain, release);
    expect(second).toBe(first);
    expect(steps).toEqual(['drain']);
    drained();
    await first;
    expect(steps).toEqual(['drain', 'release']);
  });

  it('paced timers keep the process alive while open, and not once close() has let go', async () => {
    const lifecycle = new SinkLifecycle();
    const cut = lifecycle.pace(() => undefined, 60_000);
    const left = lifecycle.pace(() => undefined, 60_000);
    lifecycle.unpace(cut);
    expect(left.hasRef()).toBe(true);
    await lifecycle.close(
      async () => undefined,
      async () => undefined,
    );
    expect(left.hasRef()).toBe(false);
    const late = lifecycle.pace(() => undefined, 60_000);
    expect(late.hasRef()).toBe(false);
    lifecycle.unpace(left);
    lifecycle.unpace(late);
  });

  it('a paced timer fires its callback once', async () => {
    const lifecycle = new SinkLifecycle();
    const fired = await new Promise<number>((resolve) => {
      lifecycle.pace(() => resolve(1), 1);
    });
    expect(fired).toBe(1);
  });
});
