import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Location } from '../s3-location.js';

/** A listed object. */
export interface ListedObject {
  bucket: string;
  key: string;
  size: number;
  modified: Date;
  eTag?: string;
}

/**
 * A date partition's objects may be stamped somewhat after the partition's end (a flow log's window is
 * delivered minutes after it closes; a trail file delivered after midnight may be filed under the day
 * before): a partition is passed only when it ended this long before the time asked for.
 */
const PARTITION_SLACK_MS = 24 * 3_600_000;

/** The levels of a date path: `2026/11/29` or the Hive form `year=2026/month=11/day=29`. */
const DATE_LEVELS = [
  { re: /^(?:year=)?(2\d{3})$/, min: 2000, max: 2999 },
  { re: /^(?:month=)?(\d{2})$/, min: 1, max: 12 },
  { re: /^(?:day=)?(\d{2})$/, min: 1, max: 31 },
] as const;

/**
 * Where the walk stands: `[]` above any date path, `[year]` or `[year, month]` inside one, `flat` where
 * nothing below can be passed by date (a whole day, or a tree that left the date path).
 */
type Position = readonly number[] | 'flat';

/** The end of a date partition (exclusive), in UTC: the start of the next year, month or day. */
function partitionEnd(parts: readonly number[]): number {
  const [year = 0, month = 1, day = 1] = parts;
  if (parts.length === 1) return Date.UTC(year + 1, 0, 1);
  if (parts.length === 2) return Date.UTC(year, month, 1);
  return Date.UTC(year, month - 1, day + 1);
}

/** The date part a directory's name adds at this depth of a date path, or undefined when it adds none. */
function datePart(depth: number, name: string): number | undefined {
  const level = DATE_LEVELS[depth];
  const match = level?.re.exec(name);
  if (!level || !match) return undefined;
  const value = Number(match[1]);
  return value >= level.min && value <= level.max ? value : undefined;
}

/** Amazon Security Lake's day partition: `eventDay=20261129`. */
const WHOLE_DAY = /^eventDay=(2\d{3})(\d{2})(\d{2})$/;

/** Where a subdirectory stands, or undefined when it ended before `floor` and is not to be entered. */
function positionOf(parent: readonly number[], name: string, floor: number): Position | undefined {
  const day = parent.length === 0 ? WHOLE_DAY.exec(name) : null;
  if (day)
    return partitionEnd([Number(day[1]), Number(day[2]), Number(day[3])]) <= floor ? undefined : 'flat';
  const part = datePart(parent.length, name);
  // Not the next date level: above a date path (an account, a region) keep looking below it; inside
  // one (`2026/misc/`) nothing more is known, so everything below is listed.
  if (part === undefined) return parent.length === 0 ? [] : 'flat';
  const parts = [...parent, part];
  if (partitionEnd(parts) <= floor) return undefined;
  return parts.length === DATE_LEVELS.length ? 'flat' : parts;
}

/**
 * Lists what a location holds that may have been written since `notBefore`, without listing its whole
 * history: AWS writes logs under date paths (`…/CloudTrail/<region>/2026/11/29/`, flow logs by hour
 * below the day, Hive-style `year=2026/month=11/day=29` where asked, Security Lake's
 * `eventDay=20261129`), so the prefix is walked one
 * directory level at a time and a year, month or day that ended well before `notBefore` is not
 * entered. Below a day, or in a tree without date directories, everything is listed. Each directory
 * walked costs one request per 1,000 entries.
 */
export async function* listSince(
  s3: S3Client,
  location: string,
  notBefore: Date,
  options: { pruneByDate?: boolean; pageSize?: number } = {},
): AsyncGenerator<ListedObject> {
  const pageSize = options.pageSize ?? 1000;
  const { bucket, prefix } = parseS3Location(location);
  const floor = notBefore.getTime() - PARTITION_SLACK_MS;

  async function* walk(dir: string, at: Position): AsyncGenerator<ListedObject> {
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: dir || undefined,
          ContinuationToken: token,
          MaxKeys: pageSize,
          ...(at === 'flat' ? {} : { Delimiter: '/' }),
        }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key || !o.LastModified || !o.Size) continue;
        const item: ListedObject = { bucket, key: o.Key, size: o.Size, modified: o.LastModified };
        if (o.ETag) item.eTag = o.ETag;
        yield item;
      }
      if (at !== 'flat') {
        for (const p of page.CommonPrefixes ?? []) {
          if (!p.Prefix) continue;
          const below = positionOf(at, p.Prefix.slice(dir.length, -1), floor);
          if (below !== undefined) yield* walk(p.Prefix, below);
        }
      }
      token = page.NextContinuationToken;
    } while (token);
  }

  // Not pruning: the whole prefix in one run of pages, as a plain listing.
  yield* walk(prefix, options.pruneByDate === false ? 'flat' : []);
}
