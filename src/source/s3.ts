import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ConnectorError } from '../errors.js';
import type { S3ObjectRef } from './notifications.js';

/** The object named by a notification is gone (deleted, or replaced since): nothing to deliver. */
export class ObjectMissingError extends ConnectorError {
  constructor(ref: S3ObjectRef, why: string) {
    super('S3_OBJECT_MISSING', `s3://${ref.bucket}/${ref.key} ${why}`, {
      details: { bucket: ref.bucket, key: ref.key },
    });
  }
}

/**
 * Streams an object's body. The version id and ETag from the notification pin the read to the object
 * the notification was about, so an overwrite in between is not read twice under two notifications.
 */
export async function openObject(
  s3: S3Client,
  ref: S3ObjectRef,
  signal?: AbortSignal,
): Promise<{ body: AsyncIterable<Uint8Array>; size?: number }> {
  try {
    const res = await s3.send(
      new GetObjectCommand({
        Bucket: ref.bucket,
        Key: ref.key,
        ...(ref.versionId ? { VersionId: ref.versionId } : {}),
        ...(ref.eTag && !ref.versionId ? { IfMatch: quoteEtag(ref.eTag) } : {}),
      }),
      signal ? { abortSignal: signal } : {},
    );
    if (!res.Body) throw new ObjectMissingError(ref, 'has no body');
    const size = res.ContentLength;
    return { body: res.Body as AsyncIterable<Uint8Array>, ...(size === undefined ? {} : { size }) };
  } catch (err) {
    const { name, status } = s3ErrorOf(err);
    if (name === 'NoSuchKey' || name === 'NoSuchVersion' || status === 404) {
      throw new ObjectMissingError(ref, 'no longer exists');
    }
    if (name === 'PreconditionFailed' || status === 412) {
      throw new ObjectMissingError(ref, 'was replaced after the notification (ETag changed)');
    }
    throw err;
  }
}

/** The name and HTTP status of an error the S3 client threw, for telling a missing object or a failed precondition. */
export function s3ErrorOf(err: unknown): { name?: string | undefined; status?: number | undefined } {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return { name: e?.name, status: e?.$metadata?.httpStatusCode };
}

function quoteEtag(etag: string): string {
  return etag.startsWith('"') ? etag : `"${etag}"`;
}
