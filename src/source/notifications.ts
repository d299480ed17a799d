import { ConnectorError } from '../errors.js';

/** One S3 object named by a notification. */
export interface S3ObjectRef {
  bucket: string;
  /** Decoded key, ready for GetObject. */
  key: string;
  size?: number;
  eTag?: string;
  versionId?: string;
  /** When S3 created the object (epoch ms); drives the lag metric. */
  eventTime?: number;
  region?: string;
}

export type SkipReason = 'test-event' | 'not-object-created' | 'empty-object';

export interface ParsedNotification {
  /** Where the notification came from: direct S3, SNS-wrapped, EventBridge. */
  envelope: 'direct' | 'sns' | 'eventbridge';
  objects: S3ObjectRef[];
  skipped: { reason: SkipReason; key?: string }[];
}

/**
 * A message body that is not a notification we understand. It will never succeed, but it is not
 * deleted either: it leaves through the queue's redrive policy into the DLQ, where an operator sees it.
 * (Deleting such messages is how the Splunk add-on once lost data silently.)
 */
export class NotificationError extends ConnectorError {
  constructor(message: string, details: { messageId?: string } = {}) {
    super('NOTIFICATION_INVALID', message, { details });
  }
}

/** Checks an SNS envelope's signature; see sns-signature.ts. Injected so that tests need no network. */
export type SnsVerifier = (envelope: Record<string, unknown>) => Promise<void>;

/**
 * Reads the objects out of one SQS message body: an S3 event notification sent straight to SQS, the same
 * wrapped in an SNS envelope, or an EventBridge "Object Created" event.
 */
export async function parseNotification(
  body: string,
  options: { verifySns?: SnsVerifier | undefined } = {},
): Promise<ParsedNotification> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new NotificationError(`message body is not JSON: ${preview(body)}`);
  }
  if (!isObject(parsed)) throw new NotificationError(`message body is not a JSON object: ${preview(body)}`);

  if (parsed.Type === 'Notification' && typeof parsed.TopicArn === 'string') {
    if (options.verifySns) await options.verifySns(parsed);
    if (typeof parsed.Message !== 'string') throw new NotificationError('SNS envelope has no Message string');
    const inner = await parseNotification(parsed.Message, {});
    return { ...inner, envelope: 'sns' };
  }
  if (parsed.source === 'aws.s3' && isObject(parsed.detail)) return fromEventBridge(parsed);
  if (parsed.Event === 's3:TestEvent')
    return { envelope: 'direct', objects: [], skipped: [{ reason: 'test-event' }] };
  if (Array.isArray(parsed.Records)) return fromS3Event(parsed.Records);
  throw new NotificationError(`not an S3 notification, SNS envelope or EventBridge event: ${preview(body)}`);
}

function fromS3Event(records: unknown[]): ParsedNotification {
  const result: ParsedNotification = { envelope: 'direct', objects: [], skipped: [] };
  for (const [i, record] of records.entries()) {
    if (!isObject(record) || !isObject(record.s3))
      throw new NotificationError(`Records[${i}] has no s3 member`);
    const s3 = record.s3;
    const bucket = isObject(s3.bucket) ? s3.bucket.name : undefined;
    const object = isObject(s3.object) ? s3.object : undefined;
    if (typeof bucket !== 'string' || !object || typeof object.key !== 'string') {
      throw new NotificationError(`Records[${i}] lacks s3.bucket.name or s3.object.key`);
    }
    // S3 URL-encodes keys in notifications, with `+` for a space.
    const key = decodeKey(object.key);
    const eventName = String(record.eventName ?? '');
    if (!eventName.startsWith('ObjectCreated:') && !eventName.startsWith('s3:ObjectCreated:')) {
      result.skipped.push({ reason: 'not-object-created', key });
      continue;
    }
    const ref: S3ObjectRef = { bucket, key };
    if (typeof object.size === 'number') ref.size = object.size;
    if (typeof object.eTag === 'string' && object.eTag) ref.eTag = object.eTag;
    if (typeof object.versionId === 'string' && object.versionId) ref.versionId = object.versionId;
    if (typeof record.awsRegion === 'string') ref.region = record.awsRegion;
    const time = typeof record.eventTime === 'string' ? Date.parse(record.eventTime) : Number.NaN;
    if (Number.isFinite(time)) ref.eventTime = time;
    pushObject(result, ref);
  }
  return result;
}

function fromEventBridge(event: Record<string, unknown>): ParsedNotification {
  const result: ParsedNotification = { envelope: 'eventbridge', objects: [], skipped: [] };
  const detail = event.detail as Record<string, unknown>;
  const bucket = isObject(detail.bucket) ? detail.bucket.name : undefined;
  const object = isObject(detail.object) ? detail.object : undefined;
  if (typeof bucket !== 'string' || !object || typeof object.key !== 'string') {
    throw new NotificationError('EventBridge event lacks detail.bucket.name or detail.object.key');
  }
  // Unlike S3 notifications, EventBridge events carry the key as stored, not URL-encoded: real events
  // show characters such as `:` as they are, which a notification escapes as %3A. Decoding would turn a
  // `+` into a space and break keys with `%`.
  const key = object.key;
  if (event['detail-type'] !== 'Object Created') {
    result.skipped.push({ reason: 'not-object-created', key });
    return result;
  }
  const ref: S3ObjectRef = { bucket, key };
  if (typeof object.size === 'number') ref.size = object.size;
  if (typeof object.etag === 'string' && object.etag) ref.eTag = object.etag;
  if (typeof object['version-id'] === 'string' && object['version-id']) ref.versionId = object['version-id'];
  if (typeof event.region === 'string') ref.region = event.region;
  const time = typeof event.time === 'string' ? Date.parse(event.time) : Number.NaN;
  if (Number.isFinite(time)) ref.eventTime = time;
  pushObject(result, ref);
  return result;
}

function pushObject(result: ParsedNotification, ref: S3ObjectRef): void {
  // A zero-byte object has no records (CloudTrail and flow logs never write one on purpose).
  if (ref.size === 0) result.skipped.push({ reason: 'empty-object', key: ref.key });
  else result.objects.push(ref);
}

export function decodeKey(key: string): string {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    // A stray `%` that is not an escape: S3 would have encoded it, so the key is already decoded.
    return key;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function preview(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}
