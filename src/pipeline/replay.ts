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
  /** Objects listed so far; the total once `listing` is false. */
  totalObjects: number;
  records: number;
  bytes: number;
  /** Bytes of the objects listed so far; the total once `listing` is false. */
  totalBytes: number;
  /** The source is still being listed (objects are replayed meanwhile). */
  listing: boolean;
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
  /** Keys per S3 listing request (ListObjectsV2 MaxKeys, at most 1000). */
  pageSize?: number;
  /** Listed objects waiting for their turn at most; the listing pauses beyond it. */
  maxWaiting?: number;
}

/**
 * Yields what `from` names (s3://bucket/prefix or a directory) modified within the window, one listing page
 * or one directory at a time: a backfill of a whole trail bucket names millions of objects, which must
 * never be held at once. Order: S3's (keys by UTF-8 bytes); in a directory, names sorted per directory,
 * which keeps AWS's date-based layouts in time order.
 */
export async function* replayItems(
  pipeline: Pick<RunningPipeline, 's3'>,
  from: string,
  window: { since?: Date | undefined; until?: Date | undefined } = {},
  pageSize = 1000,
): AsyncGenerator<ReplayItem> {
  const inWindow = (d: Date) => (!window.since || d >= window.since) && (!window.until || d < window.until);
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(from);
  if (s3) {
    const bucket = s3[1]!;
    let token: string | undefined;
    do {
      const page = await pipeline.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: s3[2] || undefined,
          ContinuationToken: token,
          MaxKeys: pageSize,
        }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key || !o.LastModified || !o.Size) continue;
        if (inWindow(o.LastModified)) yield { bucket, key: o.Key, size: o.Size, modified: o.LastModified };
      }
      token = page.NextContinuationToken;
    } while (token);
    return;
  }
  for await (const path of walk(from)) {
    const info = await stat(path);
    if (info.size === 0 || !inWindow(info.mtime)) continue;
    // Keys use `/` whatever the platform, so that routes written for S3 keys match local copies too.
    yield { key: relative(from, path).split(sep).join('/'), path, size: info.size, modified: info.mtime };
  }
}

async function* walk(dir: string): AsyncGenerator<string> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.isFile()) yield path;
  }
}

/**
 * Runs every listed object through the same pipeline as the SQS consumer, with bounded concurrency, while
 * the listing goes on. If the listing fails part-way, the objects already listed are finished first (their
 * records delivered and acknowledged, as after a whole replay), then the listing's error is thrown.
 */
export async function replay(pipeline: RunningPipeline, options: ReplayOptions): Promise<ReplayProgress> {
  const progress: ReplayProgress = {
    objects: 0,
    totalObjects: 0,
    records: 0,
    bytes: 0,
    totalBytes: 0,
    listing: true,
    failed: 0,
    deadLettered: 0,
    skipped: 0,
    startedAt: Date.now(),
  };
  const queue = new PQueue({ concurrency: options.concurrency });
  const maxWaiting = Math.max(1, options.maxWaiting ?? 1000);
  const replayOne = async (item: ReplayItem): Promise<void> => {
    const route = options.route(item.key);
    if (route === 'skip') {
      progress.skipped++;
    } else {
      try {
        const body = item.path
          ? createReadStream(item.path)
          : (await openObject(pipeline.s3, { bucket: item.bucket!, key: item.key })).body;
        const origin = item.bucket ? { bucket: item.bucket, key: item.key } : { key: item.path ?? item.key };
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
  };
  try {
    for await (const item of replayItems(pipeline, options.from, options, options.pageSize)) {
      progress.totalObjects++;
      progress.totalBytes += item.size;
      await queue.onSizeLessThan(maxWaiting);
      void queue.add(() => replayOne(item));
    }
    progress.listing = false;
  } finally {
    await queue.onIdle();
  }
  return progress;
}
