import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../src/samples/index.js';
import { createLogBucket, putObject, queueDepth, waitFor } from './support/aws.js';
import { startBlackHole } from './support/black-hole.js';
import { spawnCli, writeConfig } from './support/cli.js';
import { counterValue, startConsumer, testSinks } from './support/consumer.js';
import { countDocs, distinctIds, openSearchClient } from './support/opensearch.js';
import { startThrottleProxy } from './support/throttle-proxy.js';

describe('graceful shutdown', () => {
  it('on SIGTERM with a sink that never answers, exits within the grace period and leaves the message queued', async () => {
    // A "search node" that accepts connections and never replies: requests hang, retries never end.
    const blackHole = await startBlackHole();
    try {
      const target = await createLogBucket();
      const { file: configFile } = writeConfig('test-shutdown', (dir) => ({
        aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
        source: {
          sqs: {
            queueUrls: [target.queueUrl],
            visibilityTimeout: 60,
            waitTimeSeconds: 1,
            shutdownGraceSeconds: 3,
          },
        },
        sinks: {
          search: {
            flavour: 'opensearch',
            node: blackHole.url,
            target: { mode: 'index', pattern: 'shutdown-{logType}' },
            flushIntervalMs: 100,
            requestTimeoutMs: 600_000,
            setup: { auto: false },
          },
        },
        deadLetter: { dir: join(dir, 'dead-letter') },
        detection: { enabled: false },
        observe: { metricsPort: 0, selfReportIntervalSeconds: 0 },
      }));
      const { child, log, exited } = spawnCli(['run', '--config', configFile]);
      try {
        const records = generateCloudTrailRecords({ seed: 13_000, count: 20 });
        await putObject(
          target,
          'AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/stuck.json.gz',
          gzipSync(cloudTrailObjectText(records)),
        );
        await waitFor(
          'the object to be in flight',
          async () =>
            log().includes('consumer started') &&
            (await queueDepth(target.sqs, target.queueUrl)).inFlight === 1,
        );
        await new Promise((r) => setTimeout(r, 500));
        const stoppedAt = Date.now();
        child.kill('SIGTERM');
        const code = await exited;
        const seconds = (Date.now() - stoppedAt) / 1000;
        expect(code).toBe(0);
        // Grace for in-flight work (3 s), then the same for the sinks: well under the sink's own retry window.
        expect(seconds).toBeLessThan(12);
        expect(log()).toContain('did not drain within the grace period');
        // Released, not deleted: the message is back in the queue for the next consumer.
        await waitFor(
          'the message to be visible again',
          async () => (await queueDepth(target.sqs, target.queueUrl)).visible === 1,
          10_000,
        );
      } finally {
        child.kill('SIGKILL');
      }
    } finally {
      blackHole.close();
    }
  }, 60_000);

  it('finishes the object it is still reading when asked to stop, instead of abandoning it half-sent', async () => {
    const target = await createLogBucket();
    // S3 answers at 100 kB/s: the 3,000-record object (about 400 kB compressed) takes seconds to read.
    const slowS3 = await startThrottleProxy(target.endpoint, 100_000);
    const prefix = `sd2-${randomUUID().slice(0, 6)}`;
    try {
      const records = generateCloudTrailRecords({ seed: 13_100, count: 3000 });
      await putObject(
        target,
        'AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/large.json.gz',
        gzipSync(cloudTrailObjectText(records)),
      );
      const consumer = await startConsumer({
        aws: { region: 'us-east-1', endpoint: slowS3.url, forcePathStyle: true },
        source: {
          sqs: {
            queueUrls: [target.queueUrl],
            visibilityTimeout: 60,
            waitTimeSeconds: 1,
            shutdownGraceSeconds: 60,
          },
        },
        sinks: testSinks(prefix, { hec: false }),
        deadLetter: { dir: `.cache/test-dead-letter/${prefix}` },
      });
      const acked = () => counterValue(consumer.metrics, 'asc_sink_records_total', { outcome: 'acked' });
      await waitFor(
        'the first records of the object to be delivered',
        async () => (await acked()) > 0,
        30_000,
        50,
      );
      const ackedAtStop = await acked();
      expect(ackedAtStop).toBeLessThan(records.length);

      await consumer.stop();

      expect(await acked()).toBe(records.length);
      expect(await counterValue(consumer.metrics, 'asc_objects_total', { outcome: 'delivered' })).toBe(1);
      // The object's message and the test event S3 sends when notifications are set up.
      expect(await counterValue(consumer.metrics, 'asc_sqs_messages_deleted_total')).toBe(2);
      const os = openSearchClient();
      expect(await countDocs(os, `${prefix}-*`)).toBe(records.length);
      expect((await distinctIds(os, `${prefix}-*`)).size).toBe(records.length);
      expect(await queueDepth(target.sqs, target.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    } finally {
      await slowS3.close();
    }
  }, 120_000);
});
