import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, cpuSecondsOf, peakRssOf } from '../../../src/bench/scale-out.js';

const linux = existsSync('/proc/self/status');

/** A node process that starts a second one, as the launcher starts the consumer; the second spins or holds memory. */
function launcherWithChild(childScript: string): ChildProcess {
  const parent = `
    const { spawn } = require('node:child_process');
    const child = spawn(process.execPath, ['-e', ${JSON.stringify(childScript)}], { stdio: ['ignore', 'inherit', 'inherit'] });
    setInterval(() => {}, 1000);
  `;
  // Its own process group, so that one kill ends both.
  return spawn(process.execPath, ['-e', parent], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
}

async function ready(proc: ChildProcess): Promise<void> {
  await new Promise<void>((resolve) => proc.stdout!.once('data', () => resolve()));
}

async function statusOf(pid: number): Promise<Record<string, number>> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8');
  return Object.fromEntries(
    [...text.matchAll(/^(\w+):\s+(\d+) kB/gm)].map((m) => [m[1]!, Number(m[2]) * 1024]),
  );
}

describe.runIf(linux)('process tree figures (Linux /proc)', () => {
  let proc: ChildProcess | undefined;
  afterEach(() => {
    if (proc?.pid) process.kill(-proc.pid, 'SIGKILL');
    proc = undefined;
  });

  it("counts the largest peak once and only the others' private memory: the shared node binary is not counted twice", async () => {
    // The child holds 64 MiB of its own and says so.
    proc = launcherWithChild(`
      const held = Buffer.alloc(64 * 1024 * 1024, 1);
      process.stdout.write('ready\\n');
      setInterval(() => held[0]++, 1000);
    `);
    await ready(proc);
    const [child] = await childrenOf(proc.pid!);
    const [launcher, consumer] = await Promise.all([statusOf(proc.pid!), statusOf(child!)]);
    const peak = await peakRssOf(proc.pid);
    expect(consumer.VmHWM).toBeGreaterThan(64 * 1024 * 1024);
    // Within what the launcher's private pages could have moved between the readings.
    expect(peak).toBeGreaterThanOrEqual(consumer.VmHWM! + launcher.RssAnon! - 1024 * 1024);
    expect(peak).toBeLessThan(consumer.VmHWM! + launcher.RssAnon! + launcher.RssShmem! + 4 * 1024 * 1024);
    // Summing whole RSS would count the launcher's mapped binary again.
    expect(peak).toBeLessThan(consumer.VmHWM! + launcher.VmHWM! - 16 * 1024 * 1024);
  });

  it('adds up the CPU time of the launcher and the process it started', async () => {
    proc = launcherWithChild(`
      process.stdout.write('ready\\n');
      const until = Date.now() + 10000;
      while (Date.now() < until) Math.sqrt(Math.random());
    `);
    await ready(proc);
    const before = (await cpuSecondsOf(proc.pid))!;
    await new Promise((r) => setTimeout(r, 600));
    const after = (await cpuSecondsOf(proc.pid))!;
    // The spinning child used most of the 0.6 s; the launcher alone would have used almost none.
    expect(after - before).toBeGreaterThan(0.3);
    expect(after - before).toBeLessThan(1.5);
  });

  it('is undefined for a process that is not there', async () => {
    expect(await peakRssOf(2 ** 22 + 12345)).toBeUndefined();
    expect(await cpuSecondsOf(2 ** 22 + 12345)).toBeUndefined();
  });
});
