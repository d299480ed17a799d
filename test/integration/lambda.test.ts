import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../src/samples/index.js';
import { handleSqsEvent, resetLambdaRuntime } from '../../src/source/lambda.js';
import { createLogBucket, type LogBucket, putObject, waitFor } from './support/aws.js';
import { testSinks } from './support/consumer.js';
import { countDocs, openSearchClient } from './support/opensearch.js';
import { startThrottleProxy } from './support/throttle-proxy.js';

afterAll(async () => {
  await resetLambdaRuntime();
});

const key = (name: string) => `AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/${name}.json.gz`;

/** The object notifications now in the queue, in the event shape Lambda's SQS event source mapping delivers. */
async function receiveEvent(target: LogBucket, expected: number) {
  const received = await target.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: target.queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  const messages = (received.Messages ?? []).filter((m) => !(m.Body ?? '').includes('s3:TestEvent'));
  expect(messages).toHaveLength(expected);
  const event: SQSEvent = {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: 'AIDAEXAMPLE',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:123456789012:${target.queueUrl.split('/').pop()}`,
      awsRegion: 'us-east-1',
    })),
  };
  /** The message id of the notification about the object named `name`. */
  const idOf = (name: string) => messages.find((m) => (m.Body ?? '').includes(`${name}.json.gz`))!.MessageId;
  return { event, idOf };
}

describe('Lambda handler', () => {
  it('delivers a batch from real SQS messages and reports only the poison message as a batch item failure', async () => {
    const target = await createLogBucket();
    const prefix = `lambda-${randomUUID().slice(0, 6)}`;
    const object = (seed: number) =>
      gzipSync(cloudTrailObjectText(generateCloudTrailRecords({ seed, count: 25 })));
    await putObject(target, key('a'), object(9001));
    await putObject(target, key('b'), object(9002));
    const poison = object(9003);
    await putObject(target, key('poison'), poison.subarray(0, poison.length >> 1));

    const { event, idOf } = await receiveEvent(target, 3);
    const poisonId = idOf('poison');

    const config = validateConfig({
      aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
      sinks: testSinks(prefix, { hec: false }),
      deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
    });
    const response = await handleSqsEvent(event, { config });
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poisonId }]);

    const os = openSearchClient();
    await waitFor('the good objects', async () => (await countDocs(os, `${prefix}-*`)) >= 50);
    const fromGood = await countDocs(os, `${prefix}-*`, {
      terms: { 'log.file.path': [`s3://${target.bucket}/${key('a')}`, `s3://${target.bucket}/${key('b')}`] },
    });
    expect(fromGood).toBe(50);
  });

  it('before the invocation times out, reports the unfinished message and keeps the finished one', async () => {
    await resetLambdaRuntime();
    const target = await createLogBucket();
    // S3 answers at 40 kB/s: the large object (about 400 kB compressed) needs some 10 s, the small one none.
    const slowS3 = await startThrottleProxy(target.endpoint, 40_000);
    const prefix = `lambda-${randomUUID().slice(0, 6)}`;
    try {
      const object = (seed: number, count: number) =>
        gzipSync(cloudTrailObjectText(generateCloudTrailRecords({ seed, count })));
      await putObject(target, key('small'), object(9101, 25));
      await putObject(target, key('large'), object(9102, 3000));
      const { event, idOf } = await receiveEvent(target, 2);
      const config = validateConfig({
        aws: { region: 'us-east-1', endpoint: slowS3.url, forcePathStyle: true },
        sinks: testSinks(prefix, { hec: false }),
        deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
      });

      // 6 s left: the handler keeps 1 s back, so it answers after about 5 s.
      const startedAt = Date.now();
      const response = await handleSqsEvent(event, { config, remainingTimeMs: () => 6000 });
      const seconds = (Date.now() - startedAt) / 1000;

      expect(response.batchItemFailures).toEqual([{ itemIdentifier: idOf('large') }]);
      expect(seconds).toBeGreaterThan(4);
      expect(seconds).toBeLessThan(6);
      const os = openSearchClient();
      const fromSmall = await countDocs(os, `${prefix}-*`, {
        term: { 'log.file.path': `s3://${target.bucket}/${key('small')}` },
      });
      expect(fromSmall).toBe(25);
    } finally {
      await resetLambdaRuntime();
      await slowS3.close();
    }
  }, 60_000);
});
