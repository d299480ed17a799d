import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { serviceEndpoints } from '../../services/endpoints.js';

interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const TEST_CREDENTIALS: AwsCredentialIdentity = { accessKeyId: 'test', secretAccessKey: 'test' };

/**
 * SDK clients pointed at the moto server of the test services, which keeps queues apart by region, and
 * everything apart by account: credentials from a role assumed in another account act in that account.
 */
export function motoClients(region = 'us-east-1', credentials: AwsCredentialIdentity = TEST_CREDENTIALS) {
  const endpoint = serviceEndpoints().moto.url;
  const common = { region, endpoint, credentials };
  return { endpoint, s3: new S3Client({ ...common, forcePathStyle: true }), sqs: new SQSClient(common) };
}

export interface LogBucket {
  bucket: string;
  queueUrl: string;
  dlqUrl: string;
  s3: S3Client;
  sqs: SQSClient;
  endpoint: string;
}

/**
 * A bucket whose object-created events go to a queue with a dead-letter queue, as a user sets it up
 * (unique names, so test files never share state). `notify: false` leaves notifications off, for tests
 * that send their own message shapes.
 */
export async function createLogBucket(
  options: { maxReceiveCount?: number; notify?: boolean; region?: string; account?: string } = {},
): Promise<LogBucket> {
  const region = options.region ?? 'us-east-1';
  const account = options.account ?? '123456789012';
  const credentials = options.account ? await credentialsIn(options.account, 'log-owner') : TEST_CREDENTIALS;
  const { s3, sqs, endpoint } = motoClients(region, credentials);
  const id = randomUUID().slice(0, 8);
  const bucket = `logs-${id}`;
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `logs-${id}-dlq` }));
  const dlqArn = `arn:aws:sqs:${region}:${account}:logs-${id}-dlq`;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `logs-${id}`,
      Attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: options.maxReceiveCount ?? 3,
        }),
      },
    }),
  );
  await s3.send(
    new CreateBucketCommand({
      Bucket: bucket,
      ...(region === 'us-east-1'
        ? {}
        : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
    }),
  );
  if (options.notify !== false) {
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [
            { QueueArn: `arn:aws:sqs:${region}:${account}:logs-${id}`, Events: ['s3:ObjectCreated:*'] },
          ],
        },
      }),
    );
  }
  return { bucket, queueUrl: queue.QueueUrl!, dlqUrl: dlq.QueueUrl!, s3, sqs, endpoint };
}

/** Credentials of a role assumed in `account` (moto grants every AssumeRole). */
export async function credentialsIn(account: string, role: string): Promise<AwsCredentialIdentity> {
  const sts = new STSClient({
    region: 'us-east-1',
    endpoint: serviceEndpoints().moto.url,
    credentials: TEST_CREDENTIALS,
  });
  try {
    const { Credentials: c } = await sts.send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/${role}`, RoleSessionName: 'test' }),
    );
    return {
      accessKeyId: c!.AccessKeyId!,
      secretAccessKey: c!.SecretAccessKey!,
      sessionToken: c!.SessionToken!,
    };
  } finally {
    sts.destroy();
  }
}

export async function putObject(target: LogBucket, key: string, body: Uint8Array | string): Promise<void> {
  await target.s3.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: body }));
}

export async function sendMessage(target: LogBucket, body: unknown): Promise<void> {
  await target.sqs.send(
    new SendMessageCommand({
      QueueUrl: target.queueUrl,
      MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

/** Visible + in flight messages of a queue. */
export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(res.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

export async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const res = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
  );
  return (res.Messages ?? []).map((m) => m.Body ?? '');
}

/** Polls `probe` until it returns true, failing with `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    // A probe that throws is not ready yet (an index whose shards are still starting refuses a count the
    // moment the sink creates it); the error is reported if it never gets there.
    try {
      if (await probe()) return;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError === undefined ? '' : ` (last: ${(lastError as Error).message ?? lastError})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
