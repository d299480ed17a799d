import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../src/samples/index.js';
import { handler, handleScheduledPoll, resetLambdaRuntime } from '../../src/source/lambda.js';
import { s3StateStore } from '../../src/source/poll-state.js';
import { createLogBucket, type LogBucket, putObject } from './support/aws.js';
import { testSinks } from './support/consumer.js';
import { distinctIds, openSearchClient } from './support/opensearch.js';

afterAll(async () => {
  await resetLambdaRuntime();
});

/** What EventBridge sends for a schedule rule. */
const scheduled = () => ({
  version: '0' as const,
  id: randomUUID(),
  'detail-type': 'Scheduled Event' as const,
  source: 'aws.events' as const,
  account: '123456789012',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:123456789012:rule/asc-poll'],
  detail: {},
});

const today = new Date().toISOString().slice(0, 10).replaceAll('-', '/');

async function putTrail(target: LogBucket, name: string, seed: number): Promise<string[]> {
  const records = generateCloudTrailRecords({ seed, count: 30 });
  await putObject(
    target,
    `AWSLogs/123456789012/CloudTrail/us-east-1/${today}/${name}.json.gz`,
    gzipSync(cloudTrailObjectText(records)),
  );
  return records.map((r) => String(r.eventID));
}

/** A poller of the bucket's AWSLogs/ with its state in S3, shipping to OpenSearch under `prefix`. */
function polling(target: LogBucket, prefix: string, stateS3: string) {
  return validateConfig(
    {
      aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
      source: {
        s3Poll: {
          locations: [`s3://${target.bucket}/AWSLogs/`],
          stateS3,
          settleSeconds: 0,
          since: new Date(Date.now() - 60_000).toISOString(),
        },
      },
      sinks: testSinks(prefix, { hec: false }),
      deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
      detection: { enabled: false },
    },
    'test',
  );
}

describe('Lambda on a schedule: the S3 poller', () => {
  it('reads what is new at each scheduled invocation, once, keeping its state in S3', async () => {
    const target = await createLogBucket({ notify: false });
    const prefix = `lpoll-${randomUUID().slice(0, 6)}`;
    const stateS3 = `s3://${target.bucket}/connector-state/`;
    const config = polling(target, prefix, stateS3);
    const os = openSearchClient();
    const options = { config, remainingTimeMs: () => 60_000 };

    const first = await putTrail(target, 'a', 44_001);
    expect(await handleScheduledPoll(options)).toEqual({ poll: 'done' });
    // Every record was acknowledged before the invocation returned.
    expect(await distinctIds(os, `${prefix}-cloudtrail`)).toEqual(new Set(first));
    const saved = await s3StateStore(target.s3, stateS3).load();
    expect(Object.keys(saved?.locations ?? {})).toEqual([`s3://${target.bucket}/AWSLogs/`]);

    // The Lambda entry point takes the schedule's event to the poller; the warm runtime is reused.
    const second = await putTrail(target, 'b', 44_002);
    expect(await handler(scheduled(), { getRemainingTimeInMillis: () => 60_000 })).toEqual({ poll: 'done' });
    // Without a context (an invocation by hand) there is no deadline, and the round runs to its end.
    const third = await putTrail(target, 'c', 44_003);
    expect(await handler(scheduled())).toEqual({ poll: 'done' });
    await os.indices.refresh({ index: `${prefix}-cloudtrail` });
    const count = await os.count({ index: `${prefix}-cloudtrail` });
    expect(count.body.count).toBe(first.length + second.length + third.length);
    expect(await distinctIds(os, `${prefix}-cloudtrail`)).toEqual(new Set([...first, ...second, ...third]));
  });

  it('says so, and polls nothing, when no poller with its state in S3 is configured', async () => {
    await resetLambdaRuntime();
    const target = await createLogBucket({ notify: false });
    const config = validateConfig(
      {
        aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
        source: { s3Poll: { locations: [`s3://${target.bucket}/AWSLogs/`], stateFile: 'poll.json' } },
        sinks: { file: { dir: `.cache/test-lambda-poll/${randomUUID().slice(0, 6)}`, schema: 'ecs' } },
        detection: { enabled: false },
      },
      'test',
    );
    expect(await handleScheduledPoll({ config })).toEqual({ poll: 'not-configured' });
  });

  it('fails the round, saying why, on a state it did not write, and leaves that state alone', async () => {
    await resetLambdaRuntime();
    const target = await createLogBucket({ notify: false });
    const stateS3 = `s3://${target.bucket}/connector-state/`;
    await putObject(target, 'connector-state/s3-poll-state.json', 'not json');
    const config = validateConfig(
      {
        aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
        source: { s3Poll: { locations: [`s3://${target.bucket}/AWSLogs/`], stateS3 } },
        sinks: { file: { dir: `.cache/test-lambda-poll/${randomUUID().slice(0, 6)}`, schema: 'ecs' } },
        detection: { enabled: false },
      },
      'test',
    );
    expect(await handleScheduledPoll({ config, remainingTimeMs: () => 30_000 })).toEqual({ poll: 'failed' });
    const body = await target.s3.send(
      new GetObjectCommand({ Bucket: target.bucket, Key: 'connector-state/s3-poll-state.json' }),
    );
    expect(await body.Body?.transformToString()).toBe('not json');
  });

  it('stands by while another invocation holds the state, and polls once it is released', async () => {
    await resetLambdaRuntime();
    const target = await createLogBucket({ notify: false });
    const prefix = `lpollh-${randomUUID().slice(0, 6)}`;
    const stateS3 = `s3://${target.bucket}/connector-state/`;
    const config = polling(target, prefix, stateS3);
    const options = { config, remainingTimeMs: () => 60_000 };
    expect(await handleScheduledPoll(options)).toEqual({ poll: 'done' });
    const store = s3StateStore(target.s3, stateS3);
    const released = await store.load();
    expect(released?.savedBy).toBeUndefined();
    // An invocation still going (its save a moment ago names it).
    await store.save({ ...released!, savedBy: 'another-invocation', savedAt: new Date().toISOString() });
    const ids = await putTrail(target, 'held', 44_010);
    expect(await handleScheduledPoll(options)).toEqual({ poll: 'standby' });
    const os = openSearchClient();
    expect(await distinctIds(os, `${prefix}-cloudtrail`).catch(() => new Set())).toEqual(new Set());
    // That one ends and releases the state: the next scheduled invocation reads.
    const held = await store.load();
    await store.save({ ...held!, savedBy: undefined });
    expect(await handleScheduledPoll(options)).toEqual({ poll: 'done' });
    expect(await distinctIds(os, `${prefix}-cloudtrail`)).toEqual(new Set(ids));
  });
});
