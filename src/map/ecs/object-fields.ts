import type { RecordOrigin } from '../../types.js';
import { objectUrl } from '../object-url.js';
import type { EcsDocument } from './types.js';

/**
 * Stamps a document with the object its record came from, as Filebeat's aws-s3 input does on every event
 * it reads (these fields come from Elastic's input, not its ingest pipeline): `log.file.path` is the
 * object's URL (the local path for a local file), the same text the Splunk side sends as `source`;
 * `aws.s3.bucket.name` and `aws.s3.object.key` only for a record read from S3. No `aws.s3.bucket.arn`: the
 * partition is not known from the origin, and an ARN wrong for GovCloud or China is worse than none.
 *
 * Adds to the document in place: it runs once per record, and the document was just built for it.
 */
export function addObjectFields(doc: EcsDocument, origin: RecordOrigin): void {
  doc.log = { file: { path: objectUrl(origin) } };
  if (origin.bucket) {
    // Beside aws.cloudtrail / aws.vpcflow: both mappers always make doc.aws.
    const aws = doc.aws as Record<string, unknown>;
    aws.s3 = { bucket: { name: origin.bucket }, object: { key: origin.key } };
  }
}
