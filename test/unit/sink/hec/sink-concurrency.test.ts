import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createHecSink,
  type HecResponseInfo,
  type HecSink,
  type HecSinkConfigInput,
  hecSinkConfigSchema,
} from '../../../../src/sink/hec/index.js';
import { type FakeHec, startFakeHec } from './fake-hec.js';
import { captureLogger, fast, hecConfig, type Tracked, tracked } from './helpers.js';

let hec: FakeHec;
beforeEach(async () => {
  hec = await startFakeHec();
});
afterEach(async () => {
  await hec.close();
});

/**
 * A receiver with room for `capacity` requests at once: each takes `serviceMs`; one more is refused with
 * 503 "Server is busy" (code 9), as Splunk does when its queues are full.
 */
function capacityLimitedReceiver(capacity: number, serviceMs: number) {
  const seen = { open: 0, refused: 0, posts: 0, accepted: new Map<number, number>() };
  hec.onEvent = async (req) => {
    seen.posts++;
    if (seen.open >= capacity) {
      seen.refused++;
      return { status: 503, body: { text: 'Server is busy', code: 9 } };
    }
    seen.open++;
    await sleep(serviceMs);
    seen.open--;
    for (const e of req.events) {
      const n = (e.event as { n: number }).n;
      seen.accepted.set(n, (seen.accepted.get(n) ?? 0) + 1);
    }
    return { status: 200, body: { text: 'Success', code: 0 } };
  };
  return seen;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function send(count: number, config: Partial<HecSinkConfigInput>, deps = {}) {
  const sink = createHecSink(hecConfig({ urls: [hec.url], ...fast, ...config }), {
    logger: captureLogger().log,
    ...deps,
  });
  const records: Tracked[] = Array.from({ length: count }, (_, i) => tracked(i));
  for (const r of records) await sink.write(r.record);
  await sink.flush();
  const stats = sink.stats();
  await sink.close();
  return { records, stats };
}

describe('HEC sink: adaptive concurrency', () => {
  it('a receiver with room for 3 requests: the limit settles near 3, far fewer refusals than a fixed 12, each event once', async () => {
    const capacity = 3;
    const adaptiveSeen = capacityLimitedReceiver(capacity, 15);
    const infos: HecResponseInfo[] = [];
    const adaptive = await send(
      300,
      { maxInFlight: 12, batch: { maxEvents: 5 } },
      { onResponse: (info: HecResponseInfo) => infos.push(info) },
    );

    for (const r of adaptive.records) expect(r.outcomes).toEqual([{ kind: 'ack' }]);
    expect(adaptiveSeen.accepted.size).toBe(300);
    expect([...adaptiveSeen.accepted.values()].every((times) => times === 1)).toBe(true);
    // Once the receiver has pushed back, the limit moves around its capacity: it settles at or below one
    // above it, and probes no further than that (requests still being compressed or read back count as in
    // flight here but not at the receiver, so one step more can look healthy).
    const firstRefusal = infos.findIndex((i) => i.status === 503);
    expect(firstRefusal).toBeGreaterThan(-1);
    const after = infos.slice(firstRefusal).map((i) => i.concurrencyLimit);
    expect(median(after.slice(after.length / 2))).toBeLessThanOrEqual(capacity + 1);
    expect(Math.max(...after)).toBeLessThanOrEqual(capacity + 2);
    expect(Math.min(...after)).toBeGreaterThanOrEqual(1);
    expect(adaptive.stats.concurrencyLimit).toBe(after.at(-1));

    // The same load with the limit fixed at the ceiling: the receiver refuses most requests.
    const fixedSeen = capacityLimitedReceiver(capacity, 15);
    const fixed = await send(300, {
      maxInFlight: 12,
      batch: { maxEvents: 5 },
      adaptiveConcurrency: { enabled: false },
    });
    for (const r of fixed.records) expect(r.outcomes).toEqual([{ kind: 'ack' }]);
    expect(fixed.stats.concurrencyLimit).toBe(12);

    const adaptiveShare = adaptiveSeen.refused / adaptiveSeen.posts;
    const fixedShare = fixedSeen.refused / fixedSeen.posts;
    expect(fixedShare).toBeGreaterThan(0.3);
    expect(adaptiveShare).toBeLessThan(fixedShare / 2);
  });

  it('starts at the initial limit; a fixed setting sends maxInFlight at once', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const sinks: HecSink[] = [];
    const arrivedWith = async (config: Partial<HecSinkConfigInput>): Promise<number> => {
      const before = hec.requests.length;
      const sink = createHecSink(hecConfig({ urls: [hec.url], batch: { maxEvents: 1 }, ...config }));
      sinks.push(sink);
      for (let i = 0; i < 10; i++) await sink.write(tracked(i).record);
      await expect.poll(() => hec.requests.length - before).toBeGreaterThan(0);
      // Nothing answers yet: whatever else may go out has gone out by now.
      await sleep(50);
      return hec.requests.length - before;
    };
    hec.onEvent = async () => {
      await gate;
      return { status: 200, body: { code: 0 } };
    };
    expect(await arrivedWith({ maxInFlight: 8 })).toBe(1);
    expect(await arrivedWith({ maxInFlight: 8, adaptiveConcurrency: { initial: 3 } })).toBe(3);
    expect(await arrivedWith({ maxInFlight: 4, adaptiveConcurrency: { enabled: false } })).toBe(4);
    release();
    await Promise.all(sinks.map((s) => s.close()));
  });

  it('grows while the receiver keeps up, and reports the limit to the response hook and in stats', async () => {
    hec.onEvent = async () => {
      await sleep(5);
      return { status: 200, body: { code: 0 } };
    };
    const infos: HecResponseInfo[] = [];
    const { records, stats } = await send(
      400,
      { maxInFlight: 3, batch: { maxEvents: 4 } },
      { onResponse: (info: HecResponseInfo) => infos.push(info) },
    );
    expect(records.every((r) => r.outcomes.length === 1 && r.outcomes[0]!.kind === 'ack')).toBe(true);
    const limits = infos.map((i) => i.concurrencyLimit);
    expect(limits[0]).toBe(1);
    // Up to the ceiling, not beyond.
    expect(Math.max(...limits)).toBe(3);
    // Additive: the limit never jumps up by more than one between two responses.
    for (let i = 1; i < limits.length; i++) expect(limits[i]! - limits[i - 1]!).toBeLessThanOrEqual(1);
    expect(stats.concurrencyLimit).toBe(limits.at(-1));
  });

  it('refuses an initial limit above the ceiling', () => {
    expect(() =>
      hecSinkConfigSchema.parse({
        urls: [hec.url],
        token: 't',
        maxInFlight: 4,
        adaptiveConcurrency: { initial: 5 },
      }),
    ).toThrow(/initial must not exceed maxInFlight/);
    expect(() =>
      hecSinkConfigSchema.parse({ urls: [hec.url], token: 't', adaptiveConcurrency: { decreaseRatio: 1 } }),
    ).toThrow();
  });
});
