import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import PQueue from 'p-queue';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { createLogger, createMetrics } from '../../../src/observe/index.js';
import { buildPipeline } from '../../../src/pipeline/build.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../../src/samples/index.js';
import { processMessage } from '../../../src/source/index.js';
import type { Sink } from '../../../src/types.js';

const ackingSink: Sink = {
  name: 'memory',
  schema: 'ecs',
  async write(record) {
    setTimeout(() => record.delivery.ack(), 1);
  },
  async flush() {},
  async close() {},
};

/** An S3 client that serves one object and notes the region each read was asked of. */
function fakeS3(body: Uint8Array, region: string, asked: string[]): S3Client {
  return {
    async send() {
      asked.push(region);
      return {
        Body: (async function* () {
          yield body;
        })(),
        ContentLength: body.length,
      };
    },
  } as unknown as S3Client;
}

describe('processMessage', () => {
  it("reads each object with the client of the bucket's region, as its notification names it", async () => {
    const pipeline = await buildPipeline(
      validateConfig({ deadLetter: { dir: mkdtempSync(join(tmpdir(), 'asc-message-')) } }, 'test'),
      { log: createLogger('silent'), metrics: createMetrics(), sinks: [ackingSink] },
    );
    const body = gzipSync(cloudTrailObjectText(generateCloudTrailRecords({ seed: 3, count: 5 })));
    const asked: string[] = [];
    const notification = (bucket: string, awsRegion: string) => ({
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      awsRegion,
      eventTime: '2026-11-28T10:00:00.000Z',
      s3: {
        bucket: { name: bucket },
        object: { key: `AWSLogs/1/CloudTrail/${awsRegion}/x.json.gz`, size: body.length },
      },
    });
    try {
      const outcome = await processMessage(
        JSON.stringify({
          Records: [notification('eu-logs', 'eu-west-1'), notification('ap-logs', 'ap-south-1')],
        }),
        {
          s3: (region) => fakeS3(body, region ?? 'configured', asked),
          pipeline,
          objects: new PQueue({ concurrency: 2 }),
          route: () => 'cloudtrail',
        },
      );
      expect(outcome).toMatchObject({ done: true, objects: 2, records: 10 });
      expect(asked.sort()).toEqual(['ap-south-1', 'eu-west-1']);
    } finally {
      await pipeline.close();
    }
  });
});
