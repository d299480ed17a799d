import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cloudTrailObjectText,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../src/samples/index.js';
import { hecOutputOffset, readHecEvents, serviceEndpoints } from '../services/endpoints.js';
import { createLogBucket, putObject, queueDepth, receiveAll, sendMessage, waitFor } from './support/aws.js';
import { counterValue, type RunningConsumer, startConsumer, testSinks } from './support/consumer.js';
import { countDocs, distinctIds, openSearchClient } from './support/opensearch.js';

const running: RunningConsumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

const ctKey = (n: number, name = `123456789012_CloudTrail_us-east-1_20261128T1000Z_${n}`) =>
  `AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/${name}.json.gz`;
const flowKey = (n: number) => `AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/28/flows_${n}.log.gz`;

function cloudTrailObject(seed: number, count: number) {
  const records = generateCloudTrailRecords({ seed, count });
  return {
    body: gzipSync(cloudTrailObjectText(records)),
    ids: records.map((r) => String((r as { eventID: string }).eventID)),
  };
}

function flowObject(seed: number, count: number) {
  const lines = generateFlowLines({ seed, count });
  return { body: gzipSync(`${lines.join('\n')}\n`), lines: lines.length - 1 };
}

async function consumerFor(
  target: { queueUrl: string; endpoint: string },
  prefix: string,
  extra: Record<string, unknown> = {},
  source: Record<string, unknown> = {},
) {
  const consumer = await startConsumer({
    aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
    source: {
      sqs: {
        queueUrls: [target.queueUrl],
        visibilityTimeout: 10,
        waitTimeSeconds: 1,
        shutdownGraceSeconds: 5,
      },
      ...source,
    },
    sinks: testSinks(prefix),
    deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
    ...extra,
  });
  running.push(consumer);
  return consumer;
}

describe('delivery from S3 through SQS to OpenSearch and HEC', () => {
  it('delivers every record of every object once to OpenSearch and to HEC, then empties the queue', async () => {
    const hecStart = hecOutputOffset();
    const target = await createLogBucket();
    const prefix = `dl1-${randomUUID().slice(0, 6)}`;
    const expectedIds = new Set<string>();
    let flowLines = 0;
    for (let i = 0; i < 3; i++) {
      const object = cloudTrailObject(1000 + i, 40);
      for (const id of object.ids) expectedIds.add(id);
      await putObject(target, ctKey(i), object.body);
    }
    for (let i = 0; i < 2; i++) {
      const object = flowObject(2000 + i, 60);
      flowLines += object.lines;
      await putObject(target, flowKey(i), object.body);
    }
    const consumer = await consumerFor(target, prefix);
    const os = openSearchClient();
    const total = expectedIds.size + flowLines;

    await waitFor('every record in OpenSearch', async () => (await countDocs(os, `${prefix}-*`)) >= total);
    await waitFor('the queue to empty', async () => {
      const depth = await queueDepth(target.sqs, target.queueUrl);
      return depth.visible + depth.inFlight === 0;
    });
    expect(await countDocs(os, `${prefix}-*`)).toBe(total);
    const cloudtrailIds = await distinctIds(os, `${prefix}-cloudtrail`);
    expect(cloudtrailIds).toEqual(expectedIds);

    const hec = serviceEndpoints().hec;
    await waitFor('every record at HEC', async () => {
      const events = await readHecEvents(hec.outputFile, { sinceOffset: hecStart });
      return events.filter((e) => String(e.source).includes(target.bucket)).length >= total;
    });
    const atHec = (await readHecEvents(hec.outputFile, { sinceOffset: hecStart })).filter((e) =>
      String(e.source).includes(target.bucket),
    );
    expect(atHec).toHaveLength(total);
    expect(new Set(atHec.map((e) => e.sourcetype))).toEqual(
      new Set(['aws:cloudtrail', 'aws:cloudwatchlogs:vpcflow']),
    );
    // HEC requests were timed.
    expect(await counterValue(consumer.metrics, 'asc_sink_request_seconds', { sink: 'hec' })).toBeGreaterThan(
      0,
    );
    // Five objects, plus the s3:TestEvent that S3 sends when the notification is configured.
    expect(await counterValue(consumer.metrics, 'asc_sqs_messages_deleted_total')).toBe(6);
    expect(
      await counterValue(consumer.metrics, 'asc_notifications_skipped_total', { reason: 'test-event' }),
    ).toBe(1);
  }, 180_000);

  const elsewhere = [
    {
      // Moto keeps queues apart by region, as SQS does: a client signing for us-east-1 finds no such queue.
      what: 'a queue and bucket of another region than aws.region, by the region its queue URL names',
      bucket: { region: 'eu-west-1' },
      queueUrl: (url: string) => `https://sqs.eu-west-1.amazonaws.com${new URL(url).pathname}`,
      source: {},
    },
    {
      // Moto keeps accounts apart: the connector's own credentials find no such queue in 123456789012.
      what: "another account's queue and bucket through source.assumeRole",
      bucket: { account: '111111111111' },
      queueUrl: (url: string) => url,
      source: {
        assumeRole: { roleArn: 'arn:aws:iam::111111111111:role/log-reader', externalId: 'siem-reader' },
      },
    },
  ];
  for (const c of elsewhere) {
    it(`reads ${c.what}`, async () => {
      const target = await createLogBucket(c.bucket);
      const prefix = `dl-x-${randomUUID().slice(0, 6)}`;
      const object = cloudTrailObject(1500, 20);
      await putObject(target, ctKey(0), object.body);
      await consumerFor({ ...target, queueUrl: c.queueUrl(target.queueUrl) }, prefix, {}, c.source);
      const os = openSearchClient();
      await waitFor('every record in OpenSearch', async () => (await countDocs(os, `${prefix}-*`)) >= 20);
      await waitFor('the queue to empty', async () => {
        const depth = await queueDepth(target.sqs, target.queueUrl);
        return depth.visible + depth.inFlight === 0;
      });
      expect(await distinctIds(os, `${prefix}-cloudtrail`)).toEqual(new Set(object.ids));
    }, 120_000);
  }

  it('delivers Parquet flow logs under Hive-compatible prefixes: region from the key, lines in AWS order for Splunk', async () => {
    const hecStart = hecOutputOffset();
    const target = await createLogBucket();
    const prefix = `dl-p-${randomUUID().slice(0, 6)}`;
    const rows = 25;
    const column = (name: string, type: 'STRING' | 'INT32' | 'INT64', value: (i: number) => unknown) => ({
      name,
      type,
      data: Array.from({ length: rows }, (_, i) => value(i)),
    });
    // A custom format (srcaddr first), as a flow log's Parquet columns follow its format.
    const body = parquetWriteBuffer({
      columnData: [
        column('srcaddr', 'STRING', (i) => `10.1.0.${i + 1}`),
        column('version', 'INT32', () => 2),
        column('account_id', 'STRING', () => '123456789012'),
        column('interface_id', 'STRING', () => 'eni-0a1b2c3d4e5f60718'),
        column('dstaddr', 'STRING', () => '10.2.0.9'),
        column('srcport', 'INT32', (i) => 40000 + i),
        column('dstport', 'INT32', () => 443),
        column('protocol', 'INT32', () => 6),
        column('packets', 'INT64', () => 10n),
        column('bytes', 'INT64', () => 840n),
        column('start', 'INT64', () => 1_795_860_000n),
        column('end', 'INT64', () => 1_795_860_060n),
        column('action', 'STRING', () => 'ACCEPT'),
        column('log_status', 'STRING', () => 'OK'),
      ],
    });
    const key =
      'AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-north-1/year=2026/month=11/day=28/hour=10/123456789012_vpcflowlogs_eu-north-1_fl-0abc_20261128T1000Z_1a2b3c4d.log.parquet';
    await putObject(target, key, new Uint8Array(body));
    await consumerFor(target, prefix);
    const os = openSearchClient();
    await waitFor('every row in OpenSearch', async () => (await countDocs(os, `${prefix}-*`)) >= rows);
    const res = await os.search({ index: `${prefix}-vpcflow`, size: rows });
    const docs = res.body.hits.hits.map((h) => h._source as Record<string, any>);
    expect(docs).toHaveLength(rows);
    for (const doc of docs) {
      expect(doc.cloud.region).toBe('eu-north-1');
      expect(doc.aws.s3.object.key).toBe(key);
    }
    await waitFor('every row at HEC', async () => {
      const events = await readHecEvents(serviceEndpoints().hec.outputFile, { sinceOffset: hecStart });
      return events.filter((e) => String(e.source).includes(target.bucket)).length >= rows;
    });
    const lines = (await readHecEvents(serviceEndpoints().hec.outputFile, { sinceOffset: hecStart }))
      .filter((e) => String(e.source).includes(target.bucket))
      .map((e) => String(e.event).split(' '));
    expect(lines).toHaveLength(rows);
    // AWS's default order, where the add-on reads srcaddr as the fourth field.
    expect(new Set(lines.map((t) => `${t[0]} ${t[1]} ${t[4]} ${t[12]}`))).toEqual(
      new Set(['2 123456789012 10.2.0.9 ACCEPT']),
    );
    expect(new Set(lines.map((t) => t[3]))).toEqual(new Set(docs.map((d) => d.source.ip)));
  }, 120_000);

  it('delivers CloudTrail that came through CloudWatch Logs and Firehose, its type told by the content', async () => {
    const target = await createLogBucket();
    const prefix = `dl-c-${randomUUID().slice(0, 6)}`;
    const records = generateCloudTrailRecords({ seed: 1700, count: 12 });
    const envelope = (batch: unknown[]) =>
      gzipSync(
        JSON.stringify({
          messageType: 'DATA_MESSAGE',
          owner: '123456789012',
          logGroup: 'aws-cloudtrail-logs',
          logStream: '123456789012_CloudTrail_us-east-1',
          subscriptionFilters: ['to-firehose'],
          logEvents: batch.map((r, i) => ({
            id: String(i),
            timestamp: 1_795_860_000_000,
            message: JSON.stringify(r),
          })),
        }),
      );
    // One gzip member per subscription record, as Firehose writes them when it does not decompress.
    const body = Buffer.concat([envelope(records.slice(0, 5)), envelope(records.slice(5))]);
    await putObject(target, 'firehose/2026/11/28/10/cloudtrail-to-s3-1-2026-11-28-10-00-00-0a1b2c3d', body);
    // Firehose keys name no log: such keys go to content detection instead of being skipped.
    await consumerFor(target, prefix, { pipeline: { unmatched: 'auto' } });
    const os = openSearchClient();
    await waitFor('every record in OpenSearch', async () => (await countDocs(os, `${prefix}-*`)) >= 12);
    expect(await distinctIds(os, `${prefix}-cloudtrail`)).toEqual(
      new Set(records.map((r) => String((r as { eventID: string }).eventID))),
    );
  }, 120_000);

  it('sends each log type only to the sinks that take it (flows to OpenSearch, CloudTrail to HEC)', async () => {
    const hecStart = hecOutputOffset();
    const target = await createLogBucket();
    const prefix = `dl-lt-${randomUUID().slice(0, 6)}`;
    const trail = cloudTrailObject(3400, 25);
    const flows = flowObject(3401, 30);
    await putObject(target, ctKey(0), trail.body);
    await putObject(target, flowKey(0), flows.body);
    const sinks = testSinks(prefix);
    await consumerFor(target, prefix, {
      sinks: {
        search: { ...sinks.search, logTypes: ['vpcflow'] },
        hec: { ...sinks.hec, logTypes: ['cloudtrail'] },
      },
    });
    const os = openSearchClient();
    await waitFor('the flows in OpenSearch', async () => (await countDocs(os, `${prefix}-*`)) >= flows.lines);
    await waitFor('the queue to empty', async () => {
      const depth = await queueDepth(target.sqs, target.queueUrl);
      return depth.visible + depth.inFlight === 0;
    });
    expect(await countDocs(os, `${prefix}-vpcflow`)).toBe(flows.lines);
    expect(await countDocs(os, `${prefix}-*`)).toBe(flows.lines);
    const hecOf = async () =>
      (await readHecEvents(serviceEndpoints().hec.outputFile, { sinceOffset: hecStart })).filter((e) =>
        String(e.source).includes(target.bucket),
      );
    await waitFor('the trail at HEC', async () => (await hecOf()).length >= trail.ids.length);
    const atHec = await hecOf();
    expect(atHec).toHaveLength(trail.ids.length);
    expect(new Set(atHec.map((e) => e.sourcetype))).toEqual(new Set(['aws:cloudtrail']));
  }, 120_000);

  it('drops what pipeline.drop matches before any sink, counts it by filter, and delivers the rest', async () => {
    const hecStart = hecOutputOffset();
    const target = await createLogBucket();
    const prefix = `dl-drop-${randomUUID().slice(0, 6)}`;
    const records = generateCloudTrailRecords({ seed: 3300, count: 60 }) as Record<string, unknown>[];
    const reads = records.filter((r) => r.readOnly === true).length;
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThan(records.length);
    await putObject(target, ctKey(0), gzipSync(cloudTrailObjectText(records)));
    const consumer = await consumerFor(target, prefix, {
      pipeline: { drop: [{ name: 'reads', logType: 'cloudtrail', match: { readOnly: true } }] },
    });
    const kept = records.length - reads;
    const os = openSearchClient();
    await waitFor('the kept records in OpenSearch', async () => (await countDocs(os, `${prefix}-*`)) >= kept);
    await waitFor('the queue to empty', async () => {
      const depth = await queueDepth(target.sqs, target.queueUrl);
      return depth.visible + depth.inFlight === 0;
    });
    expect(await countDocs(os, `${prefix}-*`)).toBe(kept);
    const atHec = (await readHecEvents(serviceEndpoints().hec.outputFile, { sinceOffset: hecStart })).filter(
      (e) => String(e.source).includes(target.bucket),
    );
    expect(atHec).toHaveLength(kept);
    expect(atHec.every((e) => (e.event as { readOnly?: boolean }).readOnly !== true)).toBe(true);
    expect(
      await counterValue(consumer.metrics, 'asc_records_dropped_total', {
        log_type: 'cloudtrail',
        filter: 'reads',
      }),
    ).toBe(reads);
    expect(await counterValue(consumer.metrics, 'asc_dead_letters_total')).toBe(0);
  }, 120_000);

  it('keeps messages, invisible to others, while a sink is down, and delivers everything once it is back', async () => {
    const { createToggleProxy } = await import('./support/toggle-proxy.js');
    const proxy = await createToggleProxy(serviceEndpoints().opensearch.url);
    try {
      const target = await createLogBucket();
      const prefix = `dl3-${randomUUID().slice(0, 6)}`;
      // Templates install while the sink is up; then the sink goes down before any object arrives.
      const consumer = await startConsumer({
        aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
        source: {
          sqs: {
            queueUrls: [target.queueUrl],
            // The outage below outlasts this: only the consumer's visibility extension keeps the message.
            visibilityTimeout: 10,
            waitTimeSeconds: 1,
            shutdownGraceSeconds: 5,
          },
        },
        sinks: { search: testSinks(prefix, { searchNode: proxy.url, hec: false }).search },
        deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
      });
      running.push(consumer);
      const deleted = () => counterValue(consumer.metrics, 'asc_sqs_messages_deleted_total');
      // S3's test event comes first and is deleted while the sink is still up.
      await waitFor('the test event to be deleted', async () => (await deleted()) === 1);
      proxy.down();
      const object = cloudTrailObject(3000, 50);
      await putObject(target, ctKey(0), object.body);
      await waitFor(
        'the message to be received',
        async () => (await queueDepth(target.sqs, target.queueUrl)).inFlight === 1,
      );
      await new Promise((r) => setTimeout(r, 14_000));
      expect(proxy.refused).toBeGreaterThan(0);
      expect(await deleted()).toBe(1);
      expect((await queueDepth(target.sqs, target.queueUrl)).inFlight).toBe(1);
      // Received once (plus the test event): the heartbeat kept it from coming back to this or another consumer.
      expect(await counterValue(consumer.metrics, 'asc_sqs_messages_received_total')).toBe(2);

      proxy.up();
      const os = openSearchClient();
      await waitFor(
        'the records after the sink came back',
        async () => (await countDocs(os, `${prefix}-*`)) >= 50,
      );
      await waitFor('the message to be deleted', async () => (await deleted()) === 2);
      expect(await countDocs(os, `${prefix}-*`)).toBe(50);
    } finally {
      await proxy.close();
    }
  }, 180_000);

  it('delivers the good objects and the good records of a truncated object, which leaves through the DLQ', async () => {
    const target = await createLogBucket({ maxReceiveCount: 2 });
    const prefix = `dl4-${randomUUID().slice(0, 6)}`;
    const good = cloudTrailObject(4000, 30);
    const poison = cloudTrailObject(4001, 400);
    await putObject(target, ctKey(0), good.body);
    await putObject(target, ctKey(1, 'poison'), poison.body.subarray(0, Math.floor(poison.body.length / 2)));
    const consumer = await consumerFor(target, prefix);
    const os = openSearchClient();

    await waitFor('the good object', async () => (await countDocs(os, `${prefix}-*`)) >= 30);
    await waitFor(
      'the poison message in the DLQ',
      async () => (await queueDepth(target.sqs, target.dlqUrl)).visible === 1,
      90_000,
      1000,
    );
    const [dead] = await receiveAll(target.sqs, target.dlqUrl);
    expect(dead).toContain('poison');
    const fromPoison = await countDocs(os, `${prefix}-*`, {
      term: { 'log.file.path': `s3://${target.bucket}/${ctKey(1, 'poison')}` },
    });
    // Every good record, and the records of the poison object before the break, are there once.
    expect(fromPoison).toBeGreaterThan(0);
    expect(fromPoison).toBeLessThan(400);
    expect(await countDocs(os, `${prefix}-*`)).toBe(30 + fromPoison);
    expect(consumer.logs.text()).toContain('DECODE_TRUNCATED');
    expect(await counterValue(consumer.metrics, 'asc_sqs_messages_returned_total')).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('handles SNS-wrapped and EventBridge notifications, the test event, encoded keys and a deleted object', async () => {
    const target = await createLogBucket({ notify: false });
    const prefix = `dl5-${randomUUID().slice(0, 6)}`;
    const spaced = ctKey(0, 'my trail+copy');
    const a = cloudTrailObject(5000, 10);
    const b = cloudTrailObject(5001, 10);
    const c = cloudTrailObject(5002, 10);
    await putObject(target, spaced, a.body);
    // EventBridge carries keys as stored: `+` and `%` must reach GetObject unchanged.
    const verbatim = ctKey(1, 'eb c++ 50%25');
    await putObject(target, verbatim, b.body);
    await putObject(target, ctKey(2, 'deleted'), c.body);
    await target.s3.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: ctKey(2, 'deleted') }));
    const s3Record = (key: string) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: new Date().toISOString(),
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: target.bucket },
        object: { key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'), size: 100 },
      },
    });
    await sendMessage(target, { Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: target.bucket });
    await sendMessage(target, {
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:logs',
      MessageId: randomUUID(),
      Message: JSON.stringify({ Records: [s3Record(spaced)] }),
    });
    await sendMessage(target, {
      version: '0',
      source: 'aws.s3',
      'detail-type': 'Object Created',
      region: 'us-east-1',
      time: new Date().toISOString(),
      detail: { bucket: { name: target.bucket }, object: { key: verbatim, size: 100 } },
    });
    await sendMessage(target, { Records: [s3Record(ctKey(2, 'deleted'))] });
    const consumer = await consumerFor(target, prefix);
    const os = openSearchClient();

    await waitFor('both existing objects', async () => (await countDocs(os, `${prefix}-*`)) >= 20);
    await waitFor('every message deleted', async () => {
      const depth = await queueDepth(target.sqs, target.queueUrl);
      return depth.visible + depth.inFlight === 0;
    });
    expect(await countDocs(os, `${prefix}-*`)).toBe(20);
    expect(await counterValue(consumer.metrics, 'asc_sqs_messages_deleted_total')).toBe(4);
    expect(
      await counterValue(consumer.metrics, 'asc_notifications_skipped_total', { reason: 'test-event' }),
    ).toBe(1);
    expect(await counterValue(consumer.metrics, 'asc_objects_total', { outcome: 'missing' })).toBe(1);
    expect((await queueDepth(target.sqs, target.dlqUrl)).visible).toBe(0);
  }, 180_000);
});
