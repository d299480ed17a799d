import type { S3Client } from '@aws-sdk/client-s3';
import type PQueue from 'p-queue';
import { errorMessage } from '../errors.js';
import type { ObjectPipeline } from '../pipeline/process-object.js';
import { processObject } from '../pipeline/process-object.js';
import type { RouteDecision } from '../pipeline/routes.js';
import { NotificationError, parseNotification, type S3ObjectRef, type SnsVerifier } from './notifications.js';
import { ObjectMissingError, openObject } from './s3.js';

export interface MessageContext {
  /** The S3 client for a bucket's region, as the notification names it (undefined: the configured one). */
  s3: (region: string | undefined) => S3Client;
  pipeline: ObjectPipeline;
  /** Bounds objects in flight across all messages and queues. */
  objects: PQueue;
  route: (key: string) => RouteDecision;
  verifySns?: SnsVerifier | undefined;
  signal?: AbortSignal;
}

export interface MessageOutcome {
  /** True when every record of every object is settled: the message may be deleted. */
  done: boolean;
  reason?: string;
  objects: number;
  records: number;
}

/**
 * Everything one SQS message asks for, shared by the long-running consumer and the Lambda handler.
 * Objects of a message run concurrently (bounded by `objects`); the message is done only when all are.
 */
export async function processMessage(body: string, ctx: MessageContext): Promise<MessageOutcome> {
  const { metrics, log } = ctx.pipeline;
  let refs: S3ObjectRef[];
  try {
    const parsed = await parseNotification(body, { verifySns: ctx.verifySns });
    for (const s of parsed.skipped) metrics.notificationsSkipped.inc({ reason: s.reason });
    refs = parsed.objects;
  } catch (err) {
    if (err instanceof NotificationError) {
      metrics.notificationsSkipped.inc({ reason: 'invalid' });
      log.error({ code: err.code }, `${err.message}; the message is left for the queue's dead-letter queue`);
      return { done: false, reason: 'invalid-notification', objects: 0, records: 0 };
    }
    throw err;
  }

  const outcomes = await Promise.all(refs.map((ref) => ctx.objects.add(() => processObjectRef(ref, ctx))));
  const failed = outcomes.find((o) => !o.done);
  return {
    done: failed === undefined,
    ...(failed?.reason ? { reason: failed.reason } : {}),
    objects: refs.length,
    records: outcomes.reduce((n, o) => n + o.records, 0),
  };
}

export interface ObjectRefOutcome {
  /** Every record is settled (delivered or dead-lettered), or there was nothing to read. */
  done: boolean;
  records: number;
  /** Why not done: `read-failed` (the object could not be read) or `delivery-failed` (a sink has not taken it). */
  reason?: 'read-failed' | 'delivery-failed';
  /** The error that kept a read from succeeding. */
  error?: string;
}

/** One object through the pipeline, counted and logged: what a notification names, or a poller lists. */
export async function processObjectRef(
  ref: S3ObjectRef,
  ctx: Omit<MessageContext, 'objects' | 'verifySns'>,
): Promise<ObjectRefOutcome> {
  const { metrics, log } = ctx.pipeline;
  const route = ctx.route(ref.key);
  if (route === 'skip') {
    metrics.recordsSkipped.inc({ reason: 'unrouted' });
    log.debug({ bucket: ref.bucket, key: ref.key }, 'object skipped by routing');
    return { done: true, records: 0 };
  }
  metrics.inFlightObjects.inc();
  try {
    const { body, size } = await openObject(ctx.s3(ref.region), ref, ctx.signal);
    const outcome = await processObject(body, ctx.pipeline, {
      origin: { bucket: ref.bucket, key: ref.key },
      logType: route,
    });
    const logType = outcome.logType ?? 'unknown';
    metrics.objects.inc({ log_type: logType, outcome: outcome.status });
    if (size !== undefined && outcome.logType) metrics.objectBytes.inc({ log_type: outcome.logType }, size);
    if (outcome.status === 'delivered') {
      if (ref.eventTime) metrics.lag.observe((Date.now() - ref.eventTime) / 1000);
      return { done: true, records: outcome.records };
    }
    log.warn(
      {
        bucket: ref.bucket,
        key: ref.key,
        failures: outcome.failures,
        errors: outcome.errors.map(errorMessage),
      },
      `object not fully delivered (${outcome.failures} failures); its message is left for redelivery`,
    );
    return { done: false, records: outcome.records, reason: 'delivery-failed' };
  } catch (err) {
    if (err instanceof ObjectMissingError) {
      metrics.objects.inc({ log_type: 'unknown', outcome: 'missing' });
      log.warn({ bucket: ref.bucket, key: ref.key }, err.message);
      return { done: true, records: 0 };
    }
    metrics.objects.inc({ log_type: 'unknown', outcome: 'failed' });
    log.error({ bucket: ref.bucket, key: ref.key, err: errorMessage(err) }, 'reading the object failed');
    return { done: false, records: 0, reason: 'read-failed', error: errorMessage(err) };
  } finally {
    metrics.inFlightObjects.dec();
  }
}
