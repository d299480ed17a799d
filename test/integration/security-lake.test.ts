import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeObject } from '../../src/decode/index.js';
import {
  flowFieldsForVersion,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../src/samples/index.js';
import { hecOutputOffset, readHecEvents, serviceEndpoints } from '../services/endpoints.js';
import { ocsfFlowParquet, ocsfOfCloudTrail, ocsfOfFlow, ocsfParquet } from '../unit/support/ocsf.js';
import { createLogBucket, putObject, queueDepth, waitFor } from './support/aws.js';
import { type RunningConsumer, startConsumer, testSinks } from './support/consumer.js';
import { countDocs, distinctIds, openSearchClient } from './support/opensearch.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const running: RunningConsumer[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
});

describe('Amazon Security Lake as a source (moto S3 + SQS, OpenSearch, HEC)', () => {
  it('reads OCSF CloudTrail events from Parquet objects and ships them as the trail records they were', async () => {
    const hecStart = hecOutputOffset();
    const target = await createLogBucket();
    const prefix = `lake-${randomUUID().slice(0, 6)}`;
    const records = generateCloudTrailRecords({ seed: 42_000, count: 150 });
    // Security Lake's own key layout: no AWSLogs/…/CloudTrail/ in it; the default routes know it.
    const key = `aws/CLOUD_TRAIL_MGMT/2.0/region=us-east-1/accountId=123456789012/eventDay=20261129/${randomUUID()}.gz.parquet`;
    await putObject(target, key, ocsfParquet(records.map(ocsfOfCloudTrail)));

    const consumer = await startConsumer({
      aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
      source: { sqs: { queueUrls: [target.queueUrl], waitTimeSeconds: 1, visibilityTimeout: 10 } },
      sinks: testSinks(prefix),
      deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
    });
    running.push(consumer);
    const os = openSearchClient();
    const ids = new Set(records.map((r) => String(r.eventID)));
    await waitFor(
      'every event in OpenSearch',
      async () => (await distinctIds(os, `${prefix}-cloudtrail`)).size >= ids.size,
    );
    await waitFor('the queue to empty', async () => {
      const depth = await queueDepth(target.sqs, target.queueUrl);
      return depth.visible + depth.inFlight === 0;
    });
    expect(await distinctIds(os, `${prefix}-cloudtrail`)).toEqual(ids);
    // The ECS fields Elastic's rules read, as from the trail's own records.
    const hits = await os.search({
      index: `${prefix}-cloudtrail`,
      body: { size: records.length, query: { match_all: {} } },
    });
    const byId = new Map(records.map((r) => [String(r.eventID), r]));
    for (const hit of hits.body.hits.hits as { _id: string; _source: Record<string, any> }[]) {
      const original = byId.get(hit._id)!;
      expect(hit._source.event.action).toBe(original.eventName);
      expect(hit._source.event.provider).toBe(original.eventSource);
      expect(hit._source.cloud.region).toBe(original.awsRegion);
      expect(hit._source['@timestamp']).toBe(new Date(String(original.eventTime)).toISOString());
      expect(hit._source.aws.s3.object.key).toBe(key);
    }

    // Splunk gets each as the CloudTrail record the add-on reads.
    const hec = serviceEndpoints().hec;
    await waitFor('every event at HEC', async () => {
      const events = await readHecEvents(hec.outputFile, { sinceOffset: hecStart });
      return events.filter((e) => String(e.source).includes(target.bucket)).length >= records.length;
    });
    const atHec = (await readHecEvents(hec.outputFile, { sinceOffset: hecStart })).filter((e) =>
      String(e.source).includes(target.bucket),
    );
    expect(atHec).toHaveLength(records.length);
    for (const e of atHec) {
      expect(e.sourcetype).toBe('aws:cloudtrail');
      const event = e.event as Record<string, unknown>;
      const original = byId.get(String(event.eventID))!;
      expect(event.eventName).toBe(original.eventName);
      expect(event.userIdentity).toEqual(JSON.parse(JSON.stringify(original.userIdentity)));
    }
  });

  it('reads OCSF VPC flow events into the flow documents a flow log line makes', async () => {
    const target = await createLogBucket();
    const prefix = `lakef-${randomUUID().slice(0, 6)}`;
    const lines = generateFlowLines({ seed: 43_100, count: 80, version: 5, fields: flowFieldsForVersion(5) });
    const flows = (
      await collect(decodeObject(Readable.from([`${lines.join('\n')}\n`]), { origin: { key: 'f.log' } }))
    ).flatMap((r) => (r.kind === 'record' && r.record.logType === 'vpcflow' ? [r.record.fields] : []));
    const key = `aws/VPC_FLOW/2.0/region=us-east-1/accountId=123456789012/eventDay=20261129/${randomUUID()}.gz.parquet`;
    await putObject(target, key, ocsfFlowParquet(flows.map(ocsfOfFlow)));
    const consumer = await startConsumer({
      aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
      source: { sqs: { queueUrls: [target.queueUrl], waitTimeSeconds: 1, visibilityTimeout: 10 } },
      sinks: testSinks(prefix, { hec: false }),
      deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
    });
    running.push(consumer);
    const os = openSearchClient();
    await waitFor(
      'every flow in OpenSearch',
      async () => (await countDocs(os, `${prefix}-vpcflow`)) >= flows.length,
    );
    expect(await countDocs(os, `${prefix}-vpcflow`)).toBe(flows.length);
    const hits = await os.search({
      index: `${prefix}-vpcflow`,
      body: { size: flows.length, query: { term: { 'event.outcome': 'success' } } },
    });
    const accepted = flows.filter((f) => f.action === 'ACCEPT').length;
    expect(hits.body.hits.hits.length).toBeGreaterThan(0);
    expect(hits.body.hits.hits.length).toBeLessThanOrEqual(accepted);
    for (const hit of hits.body.hits.hits as { _source: Record<string, any> }[]) {
      expect(hit._source.source.ip).toBeTruthy();
      expect(hit._source.aws.s3.object.key).toBe(key);
    }
  });
});
