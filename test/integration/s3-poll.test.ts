import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { S3Client } from '@aws-sdk/client-s3';
import PQueue from 'p-queue';
import { describe, expect, it } from 'vitest';
import { startConsumer } from '../../src/commands/run.js';
import { type ConnectorConfig, type ConnectorConfigInput, validateConfig } from '../../src/config/index.js';
import { createLogger, createMetrics, metrics } from '../../src/observe/index.js';
import { buildPipeline, type RunningPipeline } from '../../src/pipeline/build.js';
import { compileRoutes } from '../../src/pipeline/routes.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../src/samples/index.js';
import { S3Poller } from '../../src/source/poll.js';
import { listSince } from '../../src/source/poll-listing.js';
import {
  fileStateStore,
  PollStateConflictError,
  type PollStateStore,
  s3StateStore,
} from '../../src/source/poll-state.js';
import { createLogBucket, type LogBucket, putObject, waitFor } from './support/aws.js';
import { repo } from './support/cli.js';
import { counterValue, LogCapture } from './support/consumer.js';

/** Today's date path, as CloudTrail writes it: the poller passes date directories that ended long ago. */
const KEY_PREFIX = `AWSLogs/123456789012/CloudTrail/us-east-1/${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}`;

/** Puts a CloudTrail object of `count` records; returns their event ids. */
async function putTrail(target: LogBucket, name: string, seed: number, count: number): Promise<string[]> {
  const records = generateCloudTrailRecords({ seed, count });
  await putObject(target, `${KEY_PREFIX}/${name}.json.gz`, gzipSync(cloudTrailObjectText(records)));
  return records.map((r) => String(r.eventID));
}

/** Event ids of every document the file sink wrote, in order, repeats included. */
function writtenIds(dir: string): string[] {
  const file = join(dir, 'cloudtrail.ecs.ndjson');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => String((JSON.parse(line) as { event: { id: string } }).event.id));
}

function pollConfig(
  target: LogBucket,
  dir: string,
  poll: Record<string, unknown> = {},
): ConnectorConfigInput {
  return {
    aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
    source: {
      s3Poll: {
        locations: [`s3://${target.bucket}/AWSLogs/`],
        intervalSeconds: 1,
        settleSeconds: 0,
        stateFile: join(dir, 'state', 'poll.json'),
        ...poll,
      },
    },
    sinks: { file: { dir: join(dir, 'out'), schema: 'ecs' } },
    deadLetter: { dir: join(dir, 'dead-letter') },
    detection: { enabled: false },
    observe: { metricsPort: 0, selfReportIntervalSeconds: 0 },
  };
}

/** The S3 poller of a config, as `run` builds it, with the state store and read slots given. */
function pollerOf(
  config: ConnectorConfig,
  pipeline: RunningPipeline,
  store: PollStateStore,
  objects: PQueue,
) {
  return new S3Poller({
    config: config.source.s3Poll!,
    store,
    pipeline,
    route: compileRoutes(config.pipeline),
    objects,
  });
}

function workDir(): string {
  const dir = join(repo, '.cache', 'test-s3-poll', randomUUID().slice(0, 8));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A log bucket that notifies nothing, the poll state in S3 under `prefix`, and a pipeline writing to files:
 * what the tests of pollers sharing one state start from. `close()` releases the pipeline.
 */
async function sharedStateSetup(prefix: string) {
  const target = await createLogBucket({ notify: false });
  const dir = workDir();
  const stateS3 = `s3://${target.bucket}/${prefix}/`;
  const config = validateConfig(pollConfig(target, dir, { stateS3, stateFile: undefined }), 'test');
  const pipeline = await buildPipeline(config, { log: createLogger('silent'), metrics: createMetrics() });
  return {
    target,
    dir,
    config,
    pipeline,
    store: () => s3StateStore(target.s3, stateS3),
    async close() {
      await pipeline.close();
      pipeline.s3Clients.destroy();
    },
  };
}

async function rounds(): Promise<number> {
  return counterValue(metrics(), 'asc_s3_poll_rounds_total', { outcome: 'complete' });
}

describe('S3 polling source (moto S3, through run)', () => {
  it('reads each new object once, and after a restart carries on from its state file', async () => {
    const target = await createLogBucket({ notify: false });
    const dir = workDir();
    const startedAt = new Date(Date.now() - 60_000).toISOString();
    const first = await putTrail(target, 'a', 31_001, 40);
    const config = validateConfig(pollConfig(target, dir, { since: startedAt }), 'test');
    const log = createLogger('warn', new LogCapture());

    let running = await startConsumer(config, log);
    try {
      await waitFor('the first object', async () => writtenIds(join(dir, 'out')).length >= first.length);
      const second = await putTrail(target, 'b', 31_002, 30);
      await waitFor(
        'the second object',
        async () => writtenIds(join(dir, 'out')).length >= first.length + second.length,
      );
      // Two more complete rounds over the same objects read nothing again.
      const before = await rounds();
      await waitFor('two more rounds', async () => (await rounds()) >= before + 2);
      expect(writtenIds(join(dir, 'out')).sort()).toEqual([...first, ...second].sort());
    } finally {
      await running.stop('SIGTERM');
    }

    const state = JSON.parse(readFileSync(join(dir, 'state', 'poll.json'), 'utf8'));
    const location = state.locations[`s3://${target.bucket}/AWSLogs/`];
    expect(Date.parse(location.watermark)).toBeGreaterThanOrEqual(Date.parse(startedAt));
    expect(location.retry).toEqual({});

    // Written while no poller ran: the next start reads it, and only it.
    const third = await putTrail(target, 'c', 31_003, 25);
    running = await startConsumer(config, log);
    try {
      await waitFor(
        'the object written while stopped',
        async () => writtenIds(join(dir, 'out')).length >= first.length + 30 + third.length,
      );
      const before = await rounds();
      await waitFor('two more rounds', async () => (await rounds()) >= before + 2);
    } finally {
      await running.stop('SIGTERM');
    }
    const ids = writtenIds(join(dir, 'out'));
    expect(ids).toHaveLength(first.length + 30 + third.length);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('without `since`, a first start reads only objects written from then on', async () => {
    const target = await createLogBucket({ notify: false });
    const dir = workDir();
    await putTrail(target, 'before', 31_010, 10);
    // S3 times are whole seconds: make sure the start is in a later second than the object.
    await new Promise((r) => setTimeout(r, 1_100));
    const running = await startConsumer(
      validateConfig(pollConfig(target, dir), 'test'),
      createLogger('warn'),
    );
    try {
      const before = await rounds();
      await waitFor('a round', async () => (await rounds()) >= before + 1);
      const after = await putTrail(target, 'after', 31_011, 12);
      await waitFor('the new object', async () => writtenIds(join(dir, 'out')).length >= after.length);
      const settled = await rounds();
      await waitFor('another round', async () => (await rounds()) >= settled + 1);
      expect(writtenIds(join(dir, 'out')).sort()).toEqual([...after].sort());
    } finally {
      await running.stop('SIGTERM');
    }
  });
});

describe('S3 poller failures (moto S3)', () => {
  it('retries an object it cannot read, then after the give-up time dead-letters it by name and moves on', async () => {
    const target = await createLogBucket({ notify: false });
    const dir = workDir();
    await putTrail(target, 'unreadable', 31_020, 5);
    const config = validateConfig(
      pollConfig(target, dir, {
        since: new Date(Date.now() - 60_000).toISOString(),
        giveUpAfterHours: 0.001,
      }),
      'test',
    );
    const m = createMetrics();
    const pipeline = await buildPipeline(config, { log: createLogger('silent'), metrics: m });
    // Listing works; every read goes to a port nothing listens on (a real connection refused).
    const unreachable = new S3Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const readsFail = { ...pipeline, s3Clients: { get: () => unreachable } } as unknown as RunningPipeline;
    const poller = pollerOf(
      config,
      readsFail,
      fileStateStore(join(dir, 'state', 'poll.json')),
      new PQueue({ concurrency: 2 }),
    );
    await poller.start();
    try {
      await waitFor(
        'the object given up on',
        async () => (await counterValue(m, 'asc_s3_poll_objects_total', { action: 'given-up' })) === 1,
        30_000,
      );
      const completeBefore = await counterValue(m, 'asc_s3_poll_rounds_total', { outcome: 'complete' });
      await waitFor(
        'two more rounds',
        async () =>
          (await counterValue(m, 'asc_s3_poll_rounds_total', { outcome: 'complete' })) >= completeBefore + 2,
      );
      // Tried more than once before giving up, and not again after.
      expect(
        await counterValue(m, 'asc_s3_poll_objects_total', { action: 'retried' }),
      ).toBeGreaterThanOrEqual(1);
      expect(await counterValue(m, 'asc_s3_poll_objects_total', { action: 'given-up' })).toBe(1);
    } finally {
      await poller.stop();
      await pipeline.close();
      pipeline.s3Clients.destroy();
      unreachable.destroy();
    }
    const entries = readdirSync(join(dir, 'dead-letter')).flatMap((f) =>
      readFileSync(join(dir, 'dead-letter', f), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line)),
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      code: 'S3_OBJECT_UNREADABLE',
      origin: { bucket: target.bucket, key: `${KEY_PREFIX}/unreadable.json.gz` },
    });
    expect(entries[0].reason).toMatch(/^could not be read for 0\.001 hours: /);
    expect(entries[0].reason).not.toMatch(/unknown error$/);
    expect(existsSync(join(dir, 'out', 'cloudtrail.ecs.ndjson'))).toBe(false);
  });

  it('reads only in the slots it is given, which the SQS consumer shares (maxInFlightObjects across sources)', async () => {
    const target = await createLogBucket({ notify: false });
    const dir = workDir();
    const ids = await putTrail(target, 'slotted', 31_050, 12);
    const config = validateConfig(
      pollConfig(target, dir, { since: new Date(Date.now() - 60_000).toISOString() }),
      'test',
    );
    const pipeline = await buildPipeline(config, { log: createLogger('silent'), metrics: createMetrics() });
    // One slot, held by another source's object until released.
    const objects = new PQueue({ concurrency: 1 });
    let release!: () => void;
    void objects.add(() => new Promise<void>((resolve) => (release = resolve)));
    const poller = pollerOf(config, pipeline, fileStateStore(join(dir, 'state', 'poll.json')), objects);
    await poller.start();
    try {
      await waitFor('the object queued for a slot', async () => poller.inFlight === 1);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(writtenIds(join(dir, 'out'))).toEqual([]);
      release();
      await waitFor(
        'the object read once the slot is free',
        async () => writtenIds(join(dir, 'out')).length === ids.length,
      );
    } finally {
      await poller.stop();
      await pipeline.close();
      pipeline.s3Clients.destroy();
    }
  });

  it('refuses to start on a state file it did not write, leaving the file alone', async () => {
    const target = await createLogBucket({ notify: false });
    const dir = workDir();
    const config = validateConfig(pollConfig(target, dir), 'test');
    mkdirSync(join(dir, 'state'), { recursive: true });
    writeFileSync(join(dir, 'state', 'poll.json'), 'not json');
    await expect(startConsumer(config, createLogger('silent'))).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    expect(readFileSync(join(dir, 'state', 'poll.json'), 'utf8')).toBe('not json');
  });
});

describe('S3 poller state in S3 (moto S3)', () => {
  it('keeps its state as an S3 object and carries on from it after a restart', async () => {
    const target = await createLogBucket({ notify: false });
    const dir = workDir();
    const first = await putTrail(target, 'a', 31_030, 20);
    const stateS3 = `s3://${target.bucket}/connector-state/`;
    const config = validateConfig(
      pollConfig(target, dir, {
        since: new Date(Date.now() - 60_000).toISOString(),
        stateS3,
        stateFile: undefined,
      }),
      'test',
    );
    const log = createLogger('warn', new LogCapture());
    let running = await startConsumer(config, log);
    try {
      await waitFor('the first object', async () => writtenIds(join(dir, 'out')).length >= first.length);
      const before = await rounds();
      await waitFor('a round saved', async () => (await rounds()) >= before + 1);
    } finally {
      await running.stop('SIGTERM');
    }
    const saved = await s3StateStore(target.s3, stateS3).load();
    expect(Object.keys(saved?.locations ?? {})).toEqual([`s3://${target.bucket}/AWSLogs/`]);
    expect(existsSync(join(dir, 'state'))).toBe(false);

    const second = await putTrail(target, 'b', 31_031, 15);
    running = await startConsumer(config, log);
    try {
      await waitFor(
        'the object written while stopped',
        async () => writtenIds(join(dir, 'out')).length >= first.length + second.length,
      );
      const before = await rounds();
      await waitFor('two more rounds', async () => (await rounds()) >= before + 2);
    } finally {
      await running.stop('SIGTERM');
    }
    const ids = writtenIds(join(dir, 'out'));
    expect(ids.sort()).toEqual([...first, ...second].sort());
  });

  it('a second poller on a held state stands by, reads nothing, and takes over when the first stops', async () => {
    const { target, dir, config, pipeline, store, close } = await sharedStateSetup('shared-state');
    const poller = () => {
      const metrics = createMetrics();
      const p = pollerOf(config, { ...pipeline, metrics }, store(), new PQueue({ concurrency: 1 }));
      return { p, reads: () => counterValue(metrics, 'asc_s3_poll_objects_total', { action: 'read' }) };
    };
    const first = poller();
    const second = poller();
    try {
      await first.p.start();
      await second.p.start();
      // The first holds the state (it saves it every interval): the second stands by from its start.
      expect(second.p.standingBy).toBe(true);
      expect(first.p.standingBy).toBe(false);
      // A poller standing by is ready: it is there to take over.
      await expect(second.p.checks()[0]!.check()).resolves.toBeUndefined();
      const one = await putTrail(target, 'one', 31_040, 7);
      await waitFor(
        'the active poller to read a new object',
        async () => writtenIds(join(dir, 'out')).length >= one.length,
      );
      expect(await first.reads()).toBeGreaterThanOrEqual(1);
      expect(await second.reads()).toBe(0);

      // The first stops and releases the state: the second takes it over at its next look.
      await first.p.stop();
      await waitFor('the second poller to take over', async () => !second.p.standingBy, 5_000);
      const two = await putTrail(target, 'two', 31_041, 9);
      await waitFor(
        'the new active poller to read a new object',
        async () => writtenIds(join(dir, 'out')).length >= one.length + two.length,
      );
      expect(writtenIds(join(dir, 'out')).sort()).toEqual([...one, ...two].sort());
    } finally {
      await first.p.stop();
      await second.p.stop();
      await close();
    }
  });

  it("finds out a poller that claimed its state meanwhile (a crashed one's successor): it stands by", async () => {
    const { config, pipeline, store, close } = await sharedStateSetup('claimed-state');
    const first = pollerOf(config, pipeline, store(), new PQueue({ concurrency: 1 }));
    try {
      await first.start();
      // Someone else writes the state over the first poller's version (as a successor would). The first
      // saves after its first round too: a write that lost that race reads the state again and retries.
      const other = store();
      await waitFor('the other write to go through', async () => {
        const state = await other.load();
        try {
          await other.save({ ...state!, savedBy: 'elsewhere', savedAt: new Date().toISOString() });
          return true;
        } catch (err) {
          if (err instanceof PollStateConflictError) return false;
          throw err;
        }
      });
      await waitFor('the first poller to find out and stand by', async () => first.standingBy, 10_000);
    } finally {
      await first.stop();
      await close();
    }
  });

  it('keeps saving while a read waits longer than the lease, so the poller standing by does not take over', async () => {
    const { target, dir, config, pipeline, store, close } = await sharedStateSetup('held-state');
    const poller = (objects: PQueue) =>
      pollerOf(config, { ...pipeline, metrics: createMetrics() }, store(), objects);
    const slot = new PQueue({ concurrency: 1 });
    const standby = poller(new PQueue({ concurrency: 1 }));
    const active = poller(slot);
    try {
      await active.start();
      await standby.start();
      expect(standby.standingBy).toBe(true);
      // The active poller's one slot is taken: the object it lists waits there, its round with it.
      let release!: () => void;
      void slot.add(() => new Promise<void>((resolve) => (release = resolve)));
      const ids = await putTrail(target, 'held', 31_060, 6);
      await waitFor('the object waiting for the slot', async () => active.inFlight === 1);
      await new Promise((r) => setTimeout(r, 5_000)); // over three intervals of one second
      expect(standby.standingBy).toBe(true);
      release();
      await waitFor('the object read', async () => writtenIds(join(dir, 'out')).length >= ids.length);
      expect(writtenIds(join(dir, 'out')).sort()).toEqual([...ids].sort());
    } finally {
      await active.stop();
      await standby.stop();
      await close();
    }
  });
});

describe('listing by date directories (moto S3)', () => {
  /** The prefixes of every ListObjectsV2 request the client sends. */
  function recordPrefixes(s3: S3Client): string[] {
    const prefixes: string[] = [];
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListObjectsV2Command')
          prefixes.push(String((args.input as { Prefix?: string }).Prefix ?? ''));
        return next(args);
      },
      { step: 'initialize', name: 'recordListPrefixes' },
    );
    return prefixes;
  }

  it('enters only the years, months and days that can hold new objects, and every other directory', async () => {
    const target = await createLogBucket({ notify: false });
    const base = 'AWSLogs/111122223333';
    const keys = {
      old: `${base}/CloudTrail/us-east-1/2024/01/15/old.json.gz`,
      lastMonth: `${base}/CloudTrail/us-east-1/2026/10/31/last-month.json.gz`,
      dayBefore: `${base}/CloudTrail/us-east-1/2026/11/28/day-before.json.gz`,
      today: `${base}/CloudTrail/us-east-1/2026/11/29/today.json.gz`,
      hourly: `${base}/vpcflowlogs/eu-west-1/2026/11/29/10/flows.log.gz`,
      hiveOld: `${base}/flows/year=2025/month=06/day=01/hive-old.log.gz`,
      hiveNew: `${base}/flows/year=2026/month=11/day=29/hive-new.log.gz`,
      undated: `${base}/exports/undated.json.gz`,
      lakeOld: 'AWSLogs/aws/CLOUD_TRAIL_MGMT/2.0/region=us-east-1/eventDay=20261101/lake-old.gz.parquet',
      lakeNew: 'AWSLogs/aws/CLOUD_TRAIL_MGMT/2.0/region=us-east-1/eventDay=20261129/lake-new.gz.parquet',
      notAMonth: `${base}/CloudTrail/us-east-1/2026/misc/not-a-month.json.gz`,
      top: 'AWSLogs/top.json.gz',
    };
    for (const key of Object.values(keys)) await putObject(target, key, 'x');
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: target.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const prefixes = recordPrefixes(s3);
    const listed: string[] = [];
    for await (const o of listSince(s3, `s3://${target.bucket}/AWSLogs/`, new Date('2026-11-29T10:00:00Z'), {
      pageSize: 2,
    }))
      listed.push(o.key);
    expect(listed.sort()).toEqual(
      [
        keys.dayBefore,
        keys.today,
        keys.hourly,
        keys.hiveNew,
        keys.undated,
        keys.notAMonth,
        keys.lakeNew,
        keys.top,
      ].sort(),
    );
    // The passed directories were never listed at all.
    expect(
      prefixes.some(
        (p) =>
          p.includes('/2024/') || p.includes('/10/') || p.includes('year=2025') || p.includes('=20261101'),
      ),
    ).toBe(false);
    // Without pruning: everything, in one run of pages of the prefix.
    const all: string[] = [];
    for await (const o of listSince(s3, `s3://${target.bucket}/AWSLogs/`, new Date('2026-11-29T10:00:00Z'), {
      pruneByDate: false,
    }))
      all.push(o.key);
    expect(all.sort()).toEqual(Object.values(keys).sort());
    s3.destroy();
  });
});
