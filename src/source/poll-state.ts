import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ConfigError } from '../config/index.js';
import { ConnectorError, errorMessage } from '../errors.js';
import { parseS3Location } from '../s3-location.js';
import { s3ErrorOf } from './s3.js';

const retryEntrySchema = z.strictObject({
  modified: z.iso.datetime(),
  firstFailedAt: z.iso.datetime(),
  attempts: z.number().int().positive(),
  reason: z.enum(['read-failed', 'delivery-failed']),
  error: z.string().optional(),
});
export type RetryEntry = z.infer<typeof retryEntrySchema>;

const locationStateSchema = z.strictObject({
  /** Every object last modified before this time has been read (or was older than `since`). */
  watermark: z.iso.datetime(),
  /** Objects read that were last modified at or after the watermark: key → last-modified time. */
  recent: z.record(z.string(), z.iso.datetime()),
  /** Objects that failed, tried again every round whatever their time. */
  retry: z.record(z.string(), retryEntrySchema),
});
export type LocationState = z.infer<typeof locationStateSchema>;

const pollStateSchema = z.strictObject({
  version: z.literal(1),
  /**
   * The poller that saved it (host, process, a random id) and when: for the operator, and so that every
   * save differs from the last (an S3 store's conditional write tells writers apart by the object's ETag).
   */
  savedBy: z.string().optional(),
  savedAt: z.iso.datetime().optional(),
  locations: z.record(z.string(), locationStateSchema),
});
export type PollState = z.infer<typeof pollStateSchema>;

/** What a round does with a listed object. */
export type ListedDecision = 'read' | 'retry' | 'seen';

/**
 * What the poller knows of one location, and the rules that keep it small: a watermark in S3's own
 * time below which everything is read, the keys read above it one by one, and the failures. Each round
 * moves the watermark up to the newest time listed less the settle time, and forgets the keys below it;
 * so what is kept is about one settle time of objects, whatever the bucket holds.
 */
export class LocationLedger {
  constructor(readonly state: LocationState) {}

  static starting(at: Date): LocationLedger {
    return new LocationLedger({ watermark: at.toISOString(), recent: {}, retry: {} });
  }

  decide(key: string, modified: Date): ListedDecision {
    if (this.state.retry[key]) return 'retry';
    if (modified.getTime() < Date.parse(this.state.watermark)) return 'seen';
    return this.state.recent[key] === modified.toISOString() ? 'seen' : 'read';
  }

  done(key: string, modified: Date): void {
    delete this.state.retry[key];
    if (modified.getTime() >= Date.parse(this.state.watermark))
      this.state.recent[key] = modified.toISOString();
  }

  /**
   * Records a failed attempt; `give-up` once an object that cannot be read has failed for longer than
   * `giveUpMs` (a sink that has not taken an object's records yet is waited for however long it takes).
   * An object replaced since its first failure starts over.
   */
  failed(
    key: string,
    modified: Date,
    outcome: { reason: RetryEntry['reason']; error?: string | undefined },
    now: Date,
    giveUpMs: number,
  ): 'retry' | 'give-up' {
    const previous = this.state.retry[key];
    const same = previous?.modified === modified.toISOString();
    const entry: RetryEntry = {
      modified: modified.toISOString(),
      firstFailedAt: same ? previous.firstFailedAt : now.toISOString(),
      attempts: same ? previous.attempts + 1 : 1,
      reason: outcome.reason,
      ...(outcome.error === undefined ? {} : { error: outcome.error }),
    };
    this.state.retry[key] = entry;
    const failingFor = now.getTime() - Date.parse(entry.firstFailedAt);
    return entry.reason === 'read-failed' && failingFor >= giveUpMs ? 'give-up' : 'retry';
  }

  /**
   * Ends a round. Only a complete listing may move the watermark: objects after the point where a
   * listing broke off were never seen. Failures stay until their object is read, given up on, or found
   * gone.
   */
  endRound(round: { complete: boolean; newestModified: number }, settleMs: number): void {
    if (round.complete) {
      const candidate = round.newestModified - settleMs;
      if (Number.isFinite(candidate) && candidate > Date.parse(this.state.watermark))
        this.state.watermark = new Date(candidate).toISOString();
    }
    const watermark = Date.parse(this.state.watermark);
    for (const [key, modified] of Object.entries(this.state.recent))
      if (Date.parse(modified) < watermark) delete this.state.recent[key];
  }
}

/** Where the poller's state lives; `name` is how messages refer to it. */
export interface PollStateStore {
  readonly name: string;
  /** The saved state, or undefined when there is none yet; one that cannot be read is a start-up error. */
  load(): Promise<PollState | undefined>;
  save(state: PollState): Promise<void>;
}

/** The state was written by someone else since this poller read it: another poller runs on it. */
export class PollStateConflictError extends ConnectorError {
  constructor(name: string) {
    super(
      'S3_POLL_STATE_CONFLICT',
      `the S3 poller's state ${name} was written by another poller since this one read it; two pollers on one state would both read every object, so this one stands by and takes over if that one stops`,
    );
  }
}

export const DEFAULT_POLL_STATE_FILE = 's3-poll-state.json';

/** A local file, written to a temporary file and renamed over the old one (a crash leaves the old state). */
export function fileStateStore(file: string): PollStateStore {
  return {
    name: file,
    async load() {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new ConfigError(`the S3 poller's state ${file} cannot be read: ${errorMessage(err)}`, {
          key: 'source.s3Poll.stateFile',
        });
      }
      return parseState(file, text, 'source.s3Poll.stateFile');
    },
    async save(state) {
      const text = JSON.stringify(state);
      await mkdir(dirname(file), { recursive: true });
      const temporary = `${file}.${process.pid}.tmp`;
      await writeFile(temporary, text);
      await rename(temporary, file);
    },
  };
}

/**
 * The object `s3-poll-state.json` under an `s3://bucket/prefix`, for pollers without durable disk (a
 * container task). Each write is conditional on the version this poller last read or wrote (If-Match;
 * If-None-Match for the first), so a second poller on the same state is found out at its next save.
 */
export function s3StateStore(s3: S3Client, location: string): PollStateStore {
  const { bucket, prefix } = parseS3Location(location, 'source.s3Poll.stateS3');
  const key = `${prefix}${DEFAULT_POLL_STATE_FILE}`;
  const name = `s3://${bucket}/${key}`;
  let eTag: string | undefined;
  return {
    name,
    async load() {
      let text: string;
      try {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        text = (await res.Body?.transformToString('utf8')) ?? '';
        eTag = res.ETag;
      } catch (err) {
        const { name: code, status } = s3ErrorOf(err);
        if (code === 'NoSuchKey' || status === 404) return undefined;
        throw new ConfigError(`the S3 poller's state ${name} cannot be read: ${errorMessage(err)}`, {
          key: 'source.s3Poll.stateS3',
        });
      }
      return parseState(name, text, 'source.s3Poll.stateS3');
    },
    async save(state) {
      try {
        const res = await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: JSON.stringify(state),
            ContentType: 'application/json',
            ...(eTag ? { IfMatch: eTag } : { IfNoneMatch: '*' }),
          }),
        );
        eTag = res.ETag;
      } catch (err) {
        const { name: code, status } = s3ErrorOf(err);
        if (code === 'PreconditionFailed' || status === 412) throw new PollStateConflictError(name);
        throw err;
      }
    },
  };
}

function parseState(name: string, text: string, key: string): PollState {
  const corrupt = (why: string) =>
    new ConfigError(
      `the S3 poller's state ${name} is not one it wrote (${why}); move it away to start over from source.s3Poll.since`,
      { key },
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw corrupt(errorMessage(err));
  }
  const result = pollStateSchema.safeParse(parsed);
  if (!result.success) throw corrupt(result.error.issues[0]?.message ?? 'unexpected content');
  return result.data;
}
