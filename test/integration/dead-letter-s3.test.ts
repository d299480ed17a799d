import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { s3DeadLetter } from '../../src/pipeline/dead-letter.js';
import { motoClients } from './support/aws.js';

/** The S3 dead letter against moto: batches become objects, with a bounded number of uploads in flight. */
describe('S3 dead letter', () => {
  it('stores every entry, in objects of at most maxEntries lines, with at most two uploads in flight', async () => {
    const { s3 } = motoClients();
    const bucket = `dead-letters-${randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const uploads = { now: 0, peak: 0 };
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'PutObjectCommand') return next(args);
        uploads.now++;
        uploads.peak = Math.max(uploads.peak, uploads.now);
        try {
          return await next(args);
        } finally {
          uploads.now--;
        }
      },
      { step: 'initialize', name: 'countUploadsInFlight' },
    );

    const dl = s3DeadLetter(s3, `s3://${bucket}/dead-letters/`, { maxEntries: 50 });
    const entries = 1000;
    await Promise.all(
      Array.from({ length: entries }, (_, i) =>
        dl.write({
          code: 'DECODE_FLOW_UNKNOWN_VERSION',
          reason: `line ${i + 2}: unknown flow log version "9"`,
          origin: { bucket: 'logs', key: 'AWSLogs/1/vpcflowlogs/x.log.gz', record: i + 2 },
          raw: `9 123456789012 eni-0a1b2c3d 10.0.0.${i % 250} 203.0.113.9 443 6 ACCEPT OK`,
        }),
      ),
    );
    await dl.close();
    expect(dl.pendingBytes).toBe(0);
    expect(uploads.peak).toBe(2);

    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'dead-letters/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    expect(keys).toHaveLength(entries / 50);
    const records: number[] = [];
    for (const key of keys) {
      expect(key).toMatch(/^dead-letters\/\d{4}\/\d\d\/\d\d\/[^/]+\.ndjson$/);
      const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const lines = (await object.Body!.transformToString()).split('\n').filter(Boolean);
      expect(lines.length).toBeLessThanOrEqual(50);
      for (const line of lines)
        records.push((JSON.parse(line) as { origin: { record: number } }).origin.record);
    }
    expect(records.sort((a, b) => a - b)).toEqual(Array.from({ length: entries }, (_, i) => i + 2));
  });
});
