import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { cloudTrailObjectText, generateCloudTrailRecords } from './cloudtrail.js';
import { generateFlowLines } from './vpcflow.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const DAY = '2026/11/28';

/**
 * Writes the small sample objects shipped under `samples/`, in the S3 key layout AWS uses, so the demo,
 * docs and `map` examples have realistic input. Deterministic: the same files every time (gzip mtime 0).
 */
export async function writeSampleObjects(root: string): Promise<string[]> {
  const trailDir = join(root, 'AWSLogs', ACCOUNT, 'CloudTrail', REGION, DAY);
  const flowDir = join(root, 'AWSLogs', ACCOUNT, 'vpcflowlogs', REGION, DAY);
  await mkdir(trailDir, { recursive: true });
  await mkdir(flowDir, { recursive: true });
  const written: string[] = [];
  const put = async (path: string, text: string): Promise<void> => {
    await writeFile(path, gzipSync(Buffer.from(text), { level: 9 }));
    written.push(path);
  };
  await put(
    join(trailDir, `${ACCOUNT}_CloudTrail_${REGION}_20261128T1005Z_a1b2c3d4e5f6a7b8.json.gz`),
    cloudTrailObjectText(
      generateCloudTrailRecords({ seed: 1, count: 40, accountId: ACCOUNT, region: REGION }),
    ),
  );
  await put(
    join(trailDir, `${ACCOUNT}_CloudTrail_${REGION}_20261128T1030Z_c9d8e7f6a5b4c3d2.json.gz`),
    cloudTrailObjectText(
      generateCloudTrailRecords({
        seed: 2,
        count: 20,
        accountId: ACCOUNT,
        region: REGION,
        start: new Date('2026-11-28T10:25:00Z'),
        suspicious: true,
      }),
    ),
  );
  await put(
    join(flowDir, `${ACCOUNT}_vpcflowlogs_${REGION}_fl-0a1b2c3d4e5f60718_20261128T1005Z_5f4e3d2c.log.gz`),
    `${generateFlowLines({ seed: 3, count: 60, version: 2 }).join('\n')}\n`,
  );
  await put(
    join(flowDir, `${ACCOUNT}_vpcflowlogs_${REGION}_fl-0b2c3d4e5f6071829_20261128T1010Z_9a8b7c6d.log.gz`),
    `${generateFlowLines({ seed: 4, count: 60, version: 5, suspicious: true }).join('\n')}\n`,
  );
  return written;
}
