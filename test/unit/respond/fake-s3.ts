import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';

/**
 * An in-memory S3 bucket with the semantics the action store relies on: strongly consistent lists in key
 * order, pages of `pageSize`, `If-None-Match: *` answered with 412 PreconditionFailed, ETags (the MD5 of
 * the body, quoted) on put, get and list, and deletes that succeed whether or not the key exists.
 */
export class FakeS3 {
  readonly objects = new Map<string, { body: string; lastModified: Date }>();
  pageSize = 1000;
  calls: string[] = [];
  /** Keys deleted, in order. */
  deleted: string[] = [];
  /** Fails the delete of a key (tests cut a compaction short). */
  failDelete?: (key: string) => boolean;
  /** Runs before a put is stored (tests interleave another writer here). */
  beforePut?: (input: PutObjectCommandInput) => Promise<void>;
  /** Answers the next N conditional puts with 409 ConditionalRequestConflict. */
  conflictsNext = 0;
  now = () => new Date('2026-01-01T00:00:00Z');

  get client(): S3Client {
    return { send: (command: unknown) => this.#send(command) } as unknown as S3Client;
  }

  async #send(command: unknown): Promise<unknown> {
    if (command instanceof ListObjectsV2Command) {
      this.calls.push('list');
      const { Prefix = '', ContinuationToken } = command.input;
      const keys = [...this.objects.keys()].filter((k) => k.startsWith(Prefix)).sort();
      const start = ContinuationToken ? Number(ContinuationToken) : 0;
      const page = keys.slice(start, start + this.pageSize);
      const more = start + this.pageSize < keys.length;
      return {
        Contents: page.map((Key) => ({
          Key,
          LastModified: this.objects.get(Key)!.lastModified,
          ETag: etag(this.objects.get(Key)!.body),
        })),
        IsTruncated: more,
        ...(more ? { NextContinuationToken: String(start + this.pageSize) } : {}),
      };
    }
    if (command instanceof GetObjectCommand) {
      this.calls.push('get');
      const object = this.objects.get(command.input.Key!);
      if (!object)
        throw Object.assign(new Error('NoSuchKey'), {
          name: 'NoSuchKey',
          $metadata: { httpStatusCode: 404 },
        });
      return { ETag: etag(object.body), Body: { transformToString: async () => object.body } };
    }
    if (command instanceof PutObjectCommand) {
      this.calls.push('put');
      await this.beforePut?.(command.input);
      const key = command.input.Key!;
      if (command.input.IfNoneMatch === '*') {
        if (this.conflictsNext > 0) {
          this.conflictsNext -= 1;
          throw Object.assign(new Error('conflict'), {
            name: 'ConditionalRequestConflict',
            $metadata: { httpStatusCode: 409 },
          });
        }
        if (this.objects.has(key))
          throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
            name: 'PreconditionFailed',
            $metadata: { httpStatusCode: 412 },
          });
      }
      this.objects.set(key, { body: String(command.input.Body), lastModified: this.now() });
      return { ETag: etag(String(command.input.Body)), $metadata: { httpStatusCode: 200 } };
    }
    if (command instanceof DeleteObjectCommand) {
      this.calls.push('delete');
      const key = command.input.Key!;
      if (this.failDelete?.(key))
        throw Object.assign(new Error('InternalError'), {
          name: 'InternalError',
          $metadata: { httpStatusCode: 500 },
        });
      this.objects.delete(key);
      this.deleted.push(key);
      return { $metadata: { httpStatusCode: 204 } };
    }
    throw new Error(`FakeS3 does not handle ${(command as object).constructor.name}`);
  }
}

function etag(body: string): string {
  return `"${createHash('md5').update(body).digest('hex')}"`;
}
