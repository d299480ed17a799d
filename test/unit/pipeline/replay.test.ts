import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { createLogger, createMetrics } from '../../../src/observe/index.js';
import { buildPipeline } from '../../../src/pipeline/build.js';
import { type ReplayProgress, replay, replayItems } from '../../../src/pipeline/replay.js';
import { compileRoutes } from '../../../src/pipeline/routes.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../../src/samples/index.js';
import type { Sink } from '../../../src/types.js';

/** Days of CloudTrail objects in AWS's layout, each day's files written out of order. */
function trailDirectory(days: number, perDay: number): { dir: string; records: number } {
  const dir = mkdtempSync(join(tmpdir(), 'asc-replay-list-'));
  let records = 0;
  for (let day = days; day >= 1; day--) {
    const at = join(
      dir,
      'AWSLogs',
      '111122223333',
      'CloudTrail',
      'us-east-1',
      '2026',
      '11',
      String(day).padStart(2, '0'),
    );
    mkdirSync(at, { recursive: true });
    for (let n = perDay; n >= 1; n--) {
      const count = 3 + ((day * perDay + n) % 4);
      records += count;
      const text = cloudTrailObjectText(generateCloudTrailRecords({ seed: day * 100 + n, count }));
      writeFileSync(
        join(at, `111122223333_CloudTrail_us-east-1_202611${String(day).padStart(2, '0')}T${n}_x.json`),
        text,
      );
    }
  }
  return { dir, records };
}

/** Acknowledges every record at once. */
const ackingSink: Sink = {
  name: 'memory',
  schema: 'ecs',
  async write(record) {
    record.delivery.ack();
  },
  async flush() {},
  async close() {},
};

describe('replay', () => {
  it('lists a directory lazily, names sorted per directory: AWS’s date layout comes out in time order', async () => {
    const { dir } = trailDirectory(3, 2);
    const keys: string[] = [];
    for await (const item of replayItems({ s3: undefined as never }, dir)) keys.push(item.key);
    expect(keys).toHaveLength(6);
    expect(keys).toEqual([...keys].sort());
    expect(keys[0]).toMatch(/\/01\/111122223333_CloudTrail_us-east-1_20261101T1_x\.json$/);
  });

  it('replays while the listing goes on, with at most maxWaiting listed objects waiting, and loses none', async () => {
    const { dir, records } = trailDirectory(4, 5);
    const config = validateConfig({ deadLetter: { dir: join(dir, 'dl') } }, 'test');
    const pipeline = await buildPipeline(config, {
      log: createLogger('silent'),
      metrics: createMetrics(),
      sinks: [ackingSink],
    });
    const seen: Pick<ReplayProgress, 'objects' | 'totalObjects' | 'listing'>[] = [];
    const result = await replay(pipeline, {
      from: dir,
      concurrency: 1,
      maxWaiting: 2,
      route: compileRoutes({ ...config.pipeline, unmatched: 'auto' }),
      onProgress: (p) => seen.push({ objects: p.objects, totalObjects: p.totalObjects, listing: p.listing }),
    });
    await pipeline.close();
    expect(result).toMatchObject({ objects: 20, totalObjects: 20, listing: false, records, failed: 0 });
    // Objects finished before the listing reached the end, and the listing never ran further ahead than
    // the one object in flight, the waiting ones and the one it holds while it waits for room.
    expect(seen.filter((p) => p.listing).length).toBeGreaterThan(10);
    for (const p of seen) expect(p.totalObjects - p.objects).toBeLessThanOrEqual(1 + 2 + 1);
  });
});
