import type { RecordOrigin } from '../types.js';

let last: { bucket: string | undefined; key: string; url: string } | undefined;

/**
 * `s3://bucket/key` of a record's object, or the key alone for a local file. The records of one object
 * come one after another, so the last answer is kept: one string per object instead of one per record
 * (which every serialisation of the document would also have to flatten again).
 */
export function objectUrl(origin: Pick<RecordOrigin, 'bucket' | 'key'>): string {
  if (last !== undefined && last.key === origin.key && last.bucket === origin.bucket) return last.url;
  const url = origin.bucket ? `s3://${origin.bucket}/${origin.key}` : origin.key;
  last = { bucket: origin.bucket, key: origin.key, url };
  return url;
}
