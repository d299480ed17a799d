import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import PQueue from 'p-queue';

/** A bucket whose object-created events go to a queue, set up the way the deploy guide tells users to. */
export interface BenchBucket {
  bucket: string;
  queueUrl: string;
  s3: S3Client;
  sqs: SQSClient;
  region: string;
  endpoint: string;
}

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';

export async function createBenchBucket(endpoint: string, label: string): Promise<BenchBucket> {
  const common = { region: REGION, endpoint };
  const s3 = new S3Client({ ...common, forcePathStyle: true });
  const sqs = new SQSClient(common);
  const id = `${label}-${randomUUID().slice(0, 8)}`;
  const bucket = `asc-bench-${id}`;
  await sqs.send(new CreateQueueCommand({ QueueName: `${bucket}-dlq` }));
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: bucket,
      Attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${bucket}-dlq`,
          maxReceiveCount: 3,
        }),
      },
    }),
  );
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: bucket,
      NotificationConfiguration: {
        QueueConfigurations: [
          { QueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT}:${bucket}`, Events: ['s3:ObjectCreated:*'] },
        ],
      },
    }),
  );
  return { bucket, queueUrl: queue.QueueUrl!, s3, sqs, region: REGION, endpoint };
}

export function cloudTrailKey(i: number): string {
  const now = new Date();
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/${day}/${ACCOUNT}_CloudTrail_${REGION}_bench_${i}.json.gz`;
}

export async function putObjects(
  target: BenchBucket,
  objects: { key: string; body: Buffer }[],
  concurrency = 8,
): Promise<void> {
  const queue = new PQueue({ concurrency });
  await Promise.all(
    objects.map((o) =>
      queue.add(() =>
        target.s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: o.key, Body: o.body })),
      ),
    ),
  );
}

export async function queueDepth(target: BenchBucket): Promise<number> {
  const res = await target.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: target.queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(res.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

/** Waits until `count` notifications are in the queue (S3 sends them asynchronously). */
export async function waitForDepth(target: BenchBucket, count: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await queueDepth(target)) < count) {
    if (Date.now() > deadline)
      throw new Error(`only ${await queueDepth(target)} of ${count} notifications arrived`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Removes the bench's bucket and queue, so repeated runs do not fill the emulator. */
export async function removeBenchBucket(target: BenchBucket): Promise<void> {
  try {
    for (;;) {
      const list = await target.s3.send(new ListObjectsV2Command({ Bucket: target.bucket }));
      const keys = (list.Contents ?? []).map((o) => ({ Key: o.Key! }));
      if (keys.length === 0) break;
      await target.s3.send(new DeleteObjectsCommand({ Bucket: target.bucket, Delete: { Objects: keys } }));
    }
    await target.s3.send(new DeleteBucketCommand({ Bucket: target.bucket }));
    await target.sqs.send(new DeleteQueueCommand({ QueueUrl: target.queueUrl }));
    await target.sqs.send(new DeleteQueueCommand({ QueueUrl: `${target.queueUrl}-dlq` }));
  } catch {
    // Best effort: a leftover bucket costs the emulator memory, not the result.
  }
  target.s3.destroy();
  target.sqs.destroy();
}
