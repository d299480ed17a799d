import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/index.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../src/samples/index.js';
import { handleSqsEvent, resetLambdaRuntime } from '../../src/source/lambda.js';
import { createLogBucket, putObject, waitFor } from './support/aws.js';
import { testSinks } from './support/consumer.js';
import { countDocs, openSearchClient } from './support/opensearch.js';

afterAll(async () => {
  await resetLambdaRuntime();
});

describe('Lambda handler', () => {
  it('delivers a batch from real SQS messages and reports only the poison message as a batch item failure', async () => {
    const target = await createLogBucket();
    const prefix = `lambda-${randomUUID().slice(0, 6)}`;
    const key = (name: string) => `AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/${name}.json.gz`;
    const object = (seed: number) =>
      gzipSync(cloudTrailObjectText(generateCloudTrailRecords({ seed, count: 25 })));
    await putObject(target, key('a'), object(9001));
    await putObject(target, key('b'), object(9002));
    const poison = object(9003);
    await putObject(target, key('poison'), poison.subarray(0, poison.length >> 1));

    const received = await target.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: target.queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = (received.Messages ?? []).filter((m) => !(m.Body ?? '').includes('s3:TestEvent'));
    expect(messages).toHaveLength(3);
    // The event shape Lambda's SQS event source mapping delivers.
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
    const poisonId = messages.find((m) => (m.Body ?? '').includes('poison'))!.MessageId;

    const config = validateConfig({
      aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
      sinks: testSinks(prefix, { hec: false }),
      deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
    });
    const response = await handleSqsEvent(event, config);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: poisonId }]);

    const os = openSearchClient();
    await waitFor('the good objects', async () => (await countDocs(os, `${prefix}-*`)) >= 50);
    const fromGood = await countDocs(os, `${prefix}-*`, {
      terms: { 'log.file.path': [`s3://${target.bucket}/${key('a')}`, `s3://${target.bucket}/${key('b')}`] },
    });
    expect(fromGood).toBe(50);
  });
});
