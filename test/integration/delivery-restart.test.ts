import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../src/samples/index.js';
import { hecOutputOffset, readHecEvents, serviceEndpoints } from '../services/endpoints.js';
import { createLogBucket, putObject, queueDepth, waitFor } from './support/aws.js';
import { spawnCli, writeConfig } from './support/cli.js';
import { testSinks } from './support/consumer.js';
import { countDocs, openSearchClient } from './support/opensearch.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

function startConnector(configFile: string, logFile: string) {
  const connector = spawnCli(['run', '--config', configFile], { logFile });
  children.push(connector.child);
  return connector;
}

describe('a consumer killed mid-batch', () => {
  it('loses nothing and duplicates nothing in OpenSearch after a restart; HEC duplicates stay within the in-flight window', async () => {
    const hecStart = hecOutputOffset();
    const target = await createLogBucket();
    const prefix = `dl2-${randomUUID().slice(0, 6)}`;
    const objects = 24;
    const perObject = 150;
    const maxInFlightMessages = 4;
    for (let i = 0; i < objects; i++) {
      const records = generateCloudTrailRecords({ seed: 7000 + i, count: perObject });
      await putObject(
        target,
        `AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/123456789012_CloudTrail_us-east-1_20261128T1000Z_${i}.json.gz`,
        gzipSync(cloudTrailObjectText(records)),
      );
    }
    const total = objects * perObject;
    const { dir, file: configFile } = writeConfig('test-restart', (dir) => ({
      aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
      source: {
        sqs: {
          queueUrls: [target.queueUrl],
          visibilityTimeout: 10,
          waitTimeSeconds: 1,
          maxInFlightMessages,
        },
      },
      pipeline: { maxInFlightObjects: 2 },
      sinks: testSinks(prefix),
      deadLetter: { dir: join(dir, 'dead-letter') },
      observe: { metricsPort: 0, logLevel: 'info' },
    }));
    const os = openSearchClient();

    const first = startConnector(configFile, join(dir, 'first.log')).child;
    await waitFor(
      'some records before the kill',
      async () => (await countDocs(os, `${prefix}-*`)) > 0,
      60_000,
      100,
    );
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const beforeRestart = await countDocs(os, `${prefix}-*`);
    expect(beforeRestart).toBeLessThan(total);

    startConnector(configFile, join(dir, 'second.log'));
    await waitFor(
      'every record after the restart',
      async () => (await countDocs(os, `${prefix}-*`)) >= total,
      120_000,
      500,
    );
    await waitFor(
      'the queue to empty',
      async () => {
        const depth = await queueDepth(target.sqs, target.queueUrl);
        return depth.visible + depth.inFlight === 0;
      },
      60_000,
    );
    expect(await countDocs(os, `${prefix}-*`)).toBe(total);

    const hec = serviceEndpoints().hec;
    const atHec = (await readHecEvents(hec.outputFile, { sinceOffset: hecStart })).filter((e) =>
      String(e.source).includes(target.bucket),
    );
    const duplicates = atHec.length - total;
    const uniqueAtHec = new Set(atHec.map((e) => (e.event as { eventID: string }).eventID));
    expect(uniqueAtHec.size).toBe(total);
    // Only the objects of messages in flight (or acknowledged but not yet deleted) can come twice.
    expect(duplicates).toBeGreaterThanOrEqual(0);
    expect(duplicates).toBeLessThanOrEqual((maxInFlightMessages + 10) * perObject);
  }, 240_000);
});
