import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import PQueue from 'p-queue';
import { ObjectMissingError, openObject } from '../source/s3.js';
import type { RunningPipeline } from './build.js';
import { processObject } from './process-object.js';
import type { RouteDecision } from './routes.js';

/** One object to replay: in S3 or on local disk. */
export interface ReplayItem {
  bucket?: string;
  key: string;
  /** Local path, for directory replays. */
  path?: string;
  size: number;
  modified: Date;
}

export interface ReplayProgress {
  objects: number;
  totalObjects: number;
  records: number;
  bytes: number;
  totalBytes: number;
  failed: number;
  deadLettered: number;
  skipped: number;
  startedAt: number;
}

export interface ReplayOptions {
  from: string;
  since?: Date | undefined;
  until?: Date | undefined;
  concurrency: number;
  route: (key: string) => RouteDecision;
  onProgress?: (progress: ReplayProgress) => void;
}

/** Lists what `from` names (s3://bucket/prefix or a directory), filtered by modification time. */
export async function listReplayItems(
  pipeline: Pick<RunningPipeline, 's3'>,
  from: string,
  window: { since?: Date | undefined; until?: Date | undefined } = {},
): Promise<ReplayItem[]> {
  const inWindow = (d: Date) => (!window.since || d >= window.since) && (!window.until || d < window.until);
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(from);
  const items: ReplayItem[] = [];
  if (s3) {
    const bucket = s3[1]!;
    let token: string | undefined;
    do {
      const page = await pipeline.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: s3[2] || undefined, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key || !o.LastModified || !o.Size) continue;
        if (inWindow(o.LastModified))
          items.push({ bucket, key: o.Key, size: o.Size, modified: o.LastModified });
      }
      token = page.NextContinuationToken;
    } while (token);
    return items;
  }
  for (const path of await walk(from)) {
    const info = await stat(path);
    if (info.size === 0 || !inWindow(info.mtime)) continue;
    // Keys use `/` whatever the platform, so that routes written for S3 keys match local copies too.
    items.push({
      key: relative(from, path).split(sep).join('/'),
      path,
      size: info.size,
      modified: info.mtime,
    });
  }
  return items.sort((a, b) => a.key.localeCompare(b.key));
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Runs every listed object through the same pipeline as the SQS consumer, with bounded concurrency. */
export async function replay(pipeline: RunningPipeline, options: ReplayOptions): Promise<ReplayProgress> {
  const items = await listReplayItems(pipeline, options.from, options);
  const progress: ReplayProgress = {
    objects: 0,
    totalObjects: items.length,
    records: 0,
    bytes: 0,
    totalBytes: items.reduce((n, i) => n + i.size, 0),
    failed: 0,
    deadLettered: 0,
    skipped: 0,
    startedAt: Date.now(),
  };
  const queue = new PQueue({ concurrency: options.concurrency });
  for (const item of items) {
    void queue.add(async () => {
      const route = options.route(item.key);
      if (route === 'skip') {
        progress.skipped++;
      } else {
        try {
          const body = item.path
            ? createReadStream(item.path)
            : (await openObject(pipeline.s3, { bucket: item.bucket!, key: item.key })).body;
          const origin = item.bucket
            ? { bucket: item.bucket, key: item.key }
            : { key: item.path ?? item.key };
          const outcome = await processObject(body, pipeline, { origin, logType: route });
          progress.records += outcome.records;
          progress.deadLettered += outcome.deadLettered;
          if (outcome.status === 'failed') progress.failed++;
        } catch (err) {
          if (err instanceof ObjectMissingError) progress.skipped++;
          else {
            progress.failed++;
            pipeline.log.error({ key: item.key, err: String(err) }, 'replaying the object failed');
          }
        }
      }
      progress.objects++;
      progress.bytes += item.size;
      options.onProgress?.(progress);
    });
  }
  await queue.onIdle();
  return progress;
}
