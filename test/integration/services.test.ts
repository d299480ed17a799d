// Acceptance for the local test services: each real peer answers over the network the way the
// connector's stages will rely on.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { Client as OpenSearchClient } from '@opensearch-project/opensearch';
import type { S3Event } from 'aws-lambda';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type HecEvent,
  hecOutputOffset,
  readHecEvents,
  resetMoto,
  serviceEndpoints,
  waitForHecEvents,
} from '../services/endpoints.js';

const endpoints = serviceEndpoints();

/** Events are told apart by a unique marker: other test files may write to the same receiver meanwhile. */
function carrying(marker: string): (event: HecEvent) => boolean {
  return (event) => JSON.stringify(event.event).includes(marker);
}
const region = 'us-east-1';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

describe('moto server', () => {
  const s3 = new S3Client({ endpoint: endpoints.moto.url, region, credentials, forcePathStyle: true });
  const sqs = new SQSClient({ endpoint: endpoints.moto.url, region, credentials });

  beforeAll(async () => {
    await resetMoto();
  });

  it('delivers an S3 ObjectCreated notification to SQS after the s3:TestEvent', async () => {
    const bucket = `trail-${randomUUID()}`;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `notify-${randomUUID()}` }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Id: 'cloudtrail-objects',
              QueueArn: Attributes?.['QueueArn'],
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'AWSLogs/' }] } },
            },
          ],
        },
      }),
    );
    const key = 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/trail file.json.gz';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync('{"Records":[]}') }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere/ignored.json', Body: '{}' }));

    const bodies: Record<string, unknown>[] = [];
    for (let attempt = 0; attempt < 5 && bodies.length < 2; attempt++) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const message of Messages) {
        bodies.push(JSON.parse(message.Body ?? 'null') as Record<string, unknown>);
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      }
    }

    const testEvents = bodies.filter((body) => body['Event'] === 's3:TestEvent');
    const records = bodies.flatMap((body) => (body as Partial<S3Event>).Records ?? []);
    expect(testEvents).toHaveLength(1);
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record?.eventSource).toBe('aws:s3');
    expect(record?.eventName).toBe('ObjectCreated:Put');
    expect(record?.s3.bucket.name).toBe(bucket);
    // Keys arrive URL-encoded with '+' for spaces, as on AWS.
    expect(decodeURIComponent(String(record?.s3.object.key).replaceAll('+', ' '))).toBe(key);
  });
});

describe('OpenSearch node', () => {
  const client = new OpenSearchClient({ node: endpoints.opensearch.url });

  it('indexes a document and finds it with a search', async () => {
    const index = `asc-services-${randomUUID()}`;
    const document = { '@timestamp': '2026-11-28T10:00:00Z', event: { action: 'ConsoleLogin' } };
    await client.index({ index, id: 'evt-1', body: document, refresh: true });
    const { body } = await client.search({
      index,
      body: { query: { match: { 'event.action': 'ConsoleLogin' } } },
    });
    expect(body.hits.hits.map((hit) => [hit._id, hit._source])).toEqual([['evt-1', document]]);
    await client.indices.delete({ index });
  });
});

describe('HEC receiver', () => {
  const { url, token, outputFile } = endpoints.hec;
  const eventUrl = `${url}/services/collector/event`;
  const auth = { authorization: `Splunk ${token}` };

  it('accepts a JSON event batch and writes each event with its metadata and indexed fields', async () => {
    const marker = randomUUID();
    const since = hecOutputOffset(outputFile);
    const batch = [
      {
        time: 1764324000.25,
        host: 'ip-10-0-0-1',
        source: 's3://trail-bucket/AWSLogs/a.json.gz',
        sourcetype: 'aws:cloudtrail',
        index: 'aws',
        event: { eventName: 'ConsoleLogin', marker },
        fields: { account: '123456789012' },
      },
      { sourcetype: 'aws:cloudwatchlogs:vpcflow', event: `2 123456789012 eni-1 ${marker}` },
    ];
    const response = await request(eventUrl, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: batch.map((event) => JSON.stringify(event)).join('\n'),
    });
    expect(response.statusCode).toBe(200);
    expect(await response.body.json()).toMatchObject({ text: 'Success', code: 0 });

    const ours = await waitForHecEvents(2, { outputFile, sinceOffset: since, match: carrying(marker) });
    expect(ours).toHaveLength(2);
    expect(ours[0]).toMatchObject({
      event: { eventName: 'ConsoleLogin', marker },
      time: 1764324000.25,
      host: 'ip-10-0-0-1',
      source: 's3://trail-bucket/AWSLogs/a.json.gz',
      sourcetype: 'aws:cloudtrail',
      index: 'aws',
      fields: { account: '123456789012' },
    });
    expect(ours[1]).toMatchObject({
      event: `2 123456789012 eni-1 ${marker}`,
      sourcetype: 'aws:cloudwatchlogs:vpcflow',
    });
  });

  it('accepts a gzip-encoded batch', async () => {
    const marker = randomUUID();
    const since = hecOutputOffset(outputFile);
    const response = await request(eventUrl, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ sourcetype: 'aws:cloudtrail', source: 'gz', event: { marker } })),
    });
    expect(response.statusCode).toBe(200);
    await response.body.dump();
    const [event] = await waitForHecEvents(1, { outputFile, sinceOffset: since, match: carrying(marker) });
    expect(event).toMatchObject({
      source: 'gz',
      sourcetype: 'aws:cloudtrail',
    });
  });

  it('refuses a wrong token with 401 and writes nothing', async () => {
    const marker = randomUUID();
    const since = hecOutputOffset(outputFile);
    const response = await request(eventUrl, {
      method: 'POST',
      headers: { authorization: 'Splunk not-the-token', 'content-type': 'application/json' },
      body: JSON.stringify({ event: { marker } }),
    });
    expect(response.statusCode).toBe(401);
    await response.body.dump();
    // A later, valid event proves the file was flushed past the point where the refused one would be.
    const probe = randomUUID();
    await request(eventUrl, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ event: { probe } }),
    }).then((r) => r.body.dump());
    const probed = await waitForHecEvents(1, { outputFile, sinceOffset: since, match: carrying(probe) });
    expect(probed).toHaveLength(1);
    const everything = await readHecEvents(outputFile, { sinceOffset: since });
    expect(everything.filter(carrying(marker))).toEqual([]);
  });

  it('returns an ackId on a channel and answers the ack query for it', async () => {
    const channel = randomUUID();
    const headers = { ...auth, 'x-splunk-request-channel': channel };
    const sent = await request(eventUrl, {
      method: 'POST',
      headers,
      body: JSON.stringify({ event: 'acked' }),
    });
    expect(sent.statusCode).toBe(200);
    const { ackId } = (await sent.body.json()) as { ackId?: number };
    expect(typeof ackId).toBe('number');

    const acked = await request(`${url}/services/collector/ack`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ acks: [ackId] }),
    });
    expect(acked.statusCode).toBe(200);
    expect(await acked.body.json()).toEqual({ acks: { [String(ackId)]: true } });
  });
});
