import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { validateConfig } from '../../src/config/index.js';
import { createLogger, createMetrics } from '../../src/observe/index.js';
import { buildPipeline } from '../../src/pipeline/build.js';
import { type ReplayProgress, replay } from '../../src/pipeline/replay.js';
import { compileRoutes } from '../../src/pipeline/routes.js';
import {
  cloudTrailObjectText,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../src/samples/index.js';
import type { Sink } from '../../src/types.js';
import { hecOutputOffset, waitForHecEvents } from '../services/endpoints.js';
import { createLogBucket, putObject } from './support/aws.js';
import { repo, runCli } from './support/cli.js';
import { testSinks } from './support/consumer.js';
import { countDocs, openSearchClient } from './support/opensearch.js';

describe('replay from a directory', () => {
  it('backfills every record to OpenSearch and HEC through the CLI, prints a summary and exits 0', async () => {
    const prefix = `replay-${randomUUID().slice(0, 6)}`;
    const dir = join(repo, '.cache', 'test-replay', prefix);
    const configFile = join(dir, 'connector.yml');
    const objects = join(dir, 'AWSLogs', '123456789012');
    mkdirSync(join(objects, 'CloudTrail', 'us-east-1'), { recursive: true });
    mkdirSync(join(objects, 'vpcflowlogs', 'us-east-1'), { recursive: true });
    let cloudtrail = 0;
    const originals = new Map<string, Record<string, unknown>>();
    for (let i = 0; i < 3; i++) {
      const records = generateCloudTrailRecords({ seed: 11_000 + i, count: 200 });
      cloudtrail += records.length;
      for (const r of records) originals.set(String(r.eventID), r);
      writeFileSync(
        join(objects, 'CloudTrail', 'us-east-1', `ct-${i}.json.gz`),
        gzipSync(cloudTrailObjectText(records)),
      );
    }
    const lines = generateFlowLines({ seed: 12_000, count: 300 });
    writeFileSync(
      join(objects, 'vpcflowlogs', 'us-east-1', 'flows.log.gz'),
      gzipSync(`${lines.join('\n')}\n`),
    );
    const total = cloudtrail + lines.length - 1;
    // Product defaults for batching (5 s HEC batch age): the command must wait for them, not exit early.
    const sinks = testSinks(prefix);
    writeFileSync(
      configFile,
      stringify({
        sinks: { search: sinks.search, hec: { urls: sinks.hec!.urls, token: sinks.hec!.token } },
        deadLetter: { dir: join(dir, 'dead-letter') },
        detection: { enabled: false },
        observe: { selfReportIntervalSeconds: 0 },
      }),
    );
    const hecStart = hecOutputOffset();
    const { stdout } = await runCli(['replay', '--from', join(dir, 'AWSLogs'), '--config', configFile], {
      env: { ASC_LOG_LEVEL: 'warn' },
    });
    const summary = JSON.parse(stdout.slice(stdout.indexOf('{')));
    expect(summary).toMatchObject({ objects: 4, records: total, failed: 0, deadLettered: 0 });
    // Every record was acknowledged before the command ended.
    expect(await countDocs(openSearchClient(), `${prefix}-*`)).toBe(total);
    const atHec = await waitForHecEvents(total, {
      sinceOffset: hecStart,
      timeoutMs: 5_000,
      match: (e) => String(e.source).includes(prefix),
    });
    expect(atHec).toHaveLength(total);
    // HEC carries each CloudTrail record as it was in the object (its own text spliced into the envelope):
    // the receiver parsed every one back to the original.
    const records = atHec.filter((e) => e.sourcetype === 'aws:cloudtrail').map((e) => e.event);
    expect(records).toHaveLength(cloudtrail);
    for (const event of records) {
      expect(event).toEqual(originals.get(String((event as { eventID?: unknown }).eventID)));
    }
    expect(atHec.filter((e) => e.sourcetype === 'aws:cloudwatchlogs:vpcflow').map((e) => e.event)).toEqual(
      expect.arrayContaining(lines.slice(1, 4)),
    );
  }, 180_000);
});

describe('replay from S3', () => {
  it('lists page by page while objects replay, and delivers every record of every page once', async () => {
    const target = await createLogBucket({ notify: false });
    const prefix = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/28/';
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const records = generateCloudTrailRecords({ seed: 13_000 + i, count: 4 });
      for (const r of records) ids.push(String(r.eventID));
      await putObject(
        target,
        `${prefix}111122223333_CloudTrail_us-east-1_${String(i).padStart(2, '0')}.json.gz`,
        gzipSync(cloudTrailObjectText(records)),
      );
    }
    await putObject(target, 'elsewhere/not-replayed.json', '{}');
    const delivered: string[] = [];
    const sink: Sink = {
      name: 'memory',
      schema: 'ecs',
      async write(record) {
        delivered.push(record.id);
        record.delivery.ack();
      },
      async flush() {},
      async close() {},
    };
    const config = validateConfig(
      { aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true } },
      'test',
    );
    const pipeline = await buildPipeline(config, {
      log: createLogger('silent'),
      metrics: createMetrics(),
      sinks: [sink],
    });
    const seen: Pick<ReplayProgress, 'objects' | 'totalObjects' | 'listing'>[] = [];
    try {
      const result = await replay(pipeline, {
        from: `s3://${target.bucket}/AWSLogs/`,
        concurrency: 2,
        pageSize: 10,
        maxWaiting: 2,
        route: compileRoutes(config.pipeline),
        onProgress: (p) =>
          seen.push({ objects: p.objects, totalObjects: p.totalObjects, listing: p.listing }),
      });
      expect(result).toMatchObject({
        objects: 25,
        totalObjects: 25,
        listing: false,
        records: 100,
        failed: 0,
      });
    } finally {
      await pipeline.close();
      pipeline.s3Clients.destroy();
    }
    expect([...delivered].sort()).toEqual([...ids].sort());
    // Three pages of at most ten keys: objects of the first pages were done before the last was listed.
    expect(seen.some((p) => p.listing && p.objects > 0)).toBe(true);
    for (const p of seen) expect(p.totalObjects - p.objects).toBeLessThanOrEqual(2 + 2 + 1);
  }, 60_000);
});
