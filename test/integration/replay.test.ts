import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  cloudTrailObjectText,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../src/samples/index.js';
import { hecOutputOffset, waitForHecEvents } from '../services/endpoints.js';
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
