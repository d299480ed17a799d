import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type PQueue from 'p-queue';
import { errorMessage } from '../errors.js';
import type { ReadinessCheck } from '../observe/index.js';
import type { RunningPipeline } from '../pipeline/build.js';
import type { RouteDecision } from '../pipeline/routes.js';
import { parseS3Location } from '../s3-location.js';
import { withTimeout } from '../timeout.js';
import type { S3PollSourceConfig } from './config.js';
import { type ObjectRefOutcome, processObjectRef } from './message.js';
import { type ListedObject, listSince } from './poll-listing.js';
import { LocationLedger, type PollState, PollStateConflictError, type PollStateStore } from './poll-state.js';

export interface S3PollerDeps {
  config: S3PollSourceConfig;
  store: PollStateStore;
  pipeline: RunningPipeline;
  route: (key: string) => RouteDecision;
  /**
   * The slots for objects being read (`pipeline.maxInFlightObjects`), shared with the SQS consumer when
   * both run, so that the bound holds across sources.
   */
  objects: PQueue;
  /** Keys per listing request (at most 1000). */
  pageSize?: number;
  now?: () => Date;
}

/** An object to read: as listed, or a failure retried by key (its time as first listed). */
type PolledObject = Pick<ListedObject, 'bucket' | 'key' | 'modified' | 'eTag'>;

/** Listed objects waiting for a reading slot at most; the listing pauses beyond it. */
const MAX_WAITING = 1000;

/**
 * Lists each location every interval and reads the objects not read before, through the same pipeline
 * as notifications. What has been read is kept in the state store (a file or an S3 object; see
 * LocationLedger), saved after every round and at stop; an object being read when the process dies is
 * read again at the next start (at least once, as with a message SQS redelivers).
 */
export class S3Poller {
  readonly #deps: S3PollerDeps;
  readonly #objects: PQueue;
  /** This poller's reads, queued or going (the slots may hold the SQS consumer's objects too). */
  readonly #reads = new Set<Promise<void>>();
  readonly #now: () => Date;
  readonly #stopping = new AbortController();
  /** Aborted when the grace period runs out: reads still going are cut off and left for the next start. */
  readonly #abandon = new AbortController();
  #state: PollState = { version: 1, locations: {} };
  #ledgers = new Map<string, LocationLedger>();
  #loop: Promise<void> | undefined;
  /** Saves run one at a time, in order; the latest state wins. */
  #saving: Promise<void> = Promise.resolve();
  /** Who saves the state, as it names this poller in it. */
  readonly #writer = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  /**
   * Another poller holds the state (it held it at start, or wrote it since): this one stands by, reading
   * nothing, and takes over once that one releases it or has not saved it for three intervals (it saves
   * at least once an interval while it polls).
   */
  #standby = false;
  #lastSavedAt = 0;
  #heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(deps: S3PollerDeps) {
    this.#deps = deps;
    this.#objects = deps.objects;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Claims the state (or stands by while a live poller holds it), then polls every interval until stopped. */
  async start(): Promise<void> {
    await this.#claim(await this.#deps.store.load());
    const every = this.#deps.config.intervalSeconds * 1000;
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(), every).unref();
    this.#loop = this.#poll();
  }

  /**
   * One round over every location, for a scheduled invocation (Lambda): loads the state, reads what is
   * new and saves. At `deadline` (epoch ms) the listing stops and reads still going are cut off; they are
   * retried at the next round.
   */
  async pollOnce(deadline: number): Promise<'polled' | 'standby'> {
    await this.#claim(await this.#deps.store.load());
    if (this.#standby) return 'standby';
    // No deadline (Infinity) sets no timer: a delay beyond setTimeout's range would fire at once.
    const timer = Number.isFinite(deadline)
      ? setTimeout(
          () => {
            this.#stopping.abort();
            this.#abandon.abort();
          },
          Math.max(0, deadline - Date.now()),
        )
      : undefined;
    try {
      for (const location of this.#deps.config.locations) {
        if (this.#halted()) break;
        await this.#roundAndSave(location);
      }
    } finally {
      clearTimeout(timer);
    }
    await this.#save({ release: true });
    return 'polled';
  }

  /**
   * Whether a live poller other than this one holds the state: it names its writer (a poller releases it
   * when it stops) and was saved within three intervals.
   */
  #heldByAnother(state: PollState | undefined): boolean {
    if (!state?.savedBy || state.savedBy === this.#writer) return false;
    const savedAt = state.savedAt ? Date.parse(state.savedAt) : Number.NEGATIVE_INFINITY;
    return this.#now().getTime() - savedAt < 3 * this.#deps.config.intervalSeconds * 1000;
  }

  /** Takes the state over, or stands by while a live poller holds it. */
  async #claim(state: PollState | undefined): Promise<void> {
    const { store, pipeline } = this.#deps;
    if (this.#heldByAnother(state)) {
      if (!this.#standby)
        pipeline.log.warn(
          { state: store.name, savedBy: state?.savedBy, savedAt: state?.savedAt },
          'S3 poller: another poller holds the state; this one stands by and takes over when that one stops',
        );
      this.#standby = true;
      return;
    }
    if (this.#standby)
      pipeline.log.warn(
        { state: store.name, savedBy: state?.savedBy, savedAt: state?.savedAt },
        'S3 poller: the poller that held the state has stopped; this one takes over',
      );
    this.#standby = false;
    await this.#load(state);
  }

  /**
   * Loads the state (a location new to it starts at `since`, or now less the settle time) and saves it,
   * which claims it: a poller that saved it before finds out at its next save and stands by.
   */
  async #load(loaded: PollState | undefined): Promise<void> {
    const { config } = this.#deps;
    this.#state = loaded ?? { version: 1, locations: {} };
    this.#ledgers.clear();
    // Listings give whole seconds: an object written in this very second is listed as of its start.
    const firstFrom = config.since
      ? new Date(config.since)
      : new Date(Math.floor((this.#now().getTime() - config.settleSeconds * 1000) / 1000) * 1000);
    for (const location of config.locations) {
      const saved = this.#state.locations[location];
      const ledger = saved ? new LocationLedger(saved) : LocationLedger.starting(firstFrom);
      // A `since` later than where the state stands wins: the operator asked not to read before it.
      if (config.since && Date.parse(config.since) > Date.parse(ledger.state.watermark))
        ledger.state.watermark = new Date(config.since).toISOString();
      this.#state.locations[location] = ledger.state;
      this.#ledgers.set(location, ledger);
    }
    await this.#save();
  }

  /** Stops listing, lets reads in progress finish within the grace period, and saves what was read. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    clearInterval(this.#heartbeatTimer);
    // Never started (start-up failed first): there is no state of ours to save over the file's.
    if (!this.#loop) return;
    const finished = await withTimeout(
      this.#loop.then(() => 'done' as const),
      this.#deps.config.shutdownGraceSeconds * 1000,
      'timeout' as const,
      { unref: true },
    );
    if (finished === 'timeout') {
      this.#deps.pipeline.log.warn(
        { inFlight: this.inFlight },
        'S3 poller: objects still being read at the end of the grace period are read again at the next start',
      );
      this.#abandon.abort();
    }
    // Released: a poller standing by (or the next start) takes over at once, without waiting out the lease.
    await this.#save({ release: true });
  }

  get inFlight(): number {
    return this.#reads.size;
  }

  /** Another poller holds the state; this one reads nothing until that one stops saving it. */
  get standingBy(): boolean {
    return this.#standby;
  }

  /** /readyz: each location can be listed (a poller standing by is ready too: it is there to take over). */
  checks(): ReadinessCheck[] {
    return this.#deps.config.locations.map((location) => ({
      name: `s3-poll:${location}`,
      check: async () => {
        const { bucket, prefix } = parseS3Location(location);
        await this.#deps.pipeline.s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, MaxKeys: 1 }),
        );
      },
    }));
  }

  async #poll(): Promise<void> {
    const { config } = this.#deps;
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      const startedAt = Date.now();
      if (this.#standby) await this.#takeOverIfAbandoned();
      for (const location of config.locations) {
        if (this.#halted()) break;
        await this.#roundAndSave(location);
      }
      const wait = startedAt + config.intervalSeconds * 1000 - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Stopping, or standing by: no more listing or reading. */
  #halted(): boolean {
    return this.#stopping.signal.aborted || this.#standby;
  }

  /** Standing by: reads the state, and claims it once the poller that holds it has stopped. */
  async #takeOverIfAbandoned(): Promise<void> {
    const { store, pipeline } = this.#deps;
    pipeline.metrics.pollRounds.inc({ outcome: 'standby' });
    let state: PollState | undefined;
    try {
      state = await store.load();
    } catch (err) {
      pipeline.log.warn(
        { state: store.name, err: errorMessage(err) },
        'S3 poller: standing by, the state cannot be read',
      );
      return;
    }
    await this.#claim(state);
  }

  /**
   * Saves at least once an interval while polling, a long round or a long read included: what was read
   * survives a crash, and the save tells a poller standing by that this one is alive.
   */
  #heartbeat(): void {
    if (this.#standby) return;
    if (Date.now() - this.#lastSavedAt >= this.#deps.config.intervalSeconds * 1000) void this.#save();
  }

  /** A round over one location, whose failure is counted and logged (the next round tries again). */
  async #roundAndSave(location: string): Promise<void> {
    const { pipeline } = this.#deps;
    try {
      await this.#round(location);
    } catch (err) {
      pipeline.metrics.pollRounds.inc({ outcome: 'failed' });
      pipeline.log.error(
        { location, err: errorMessage(err) },
        'S3 poller: listing failed; the objects listed before it were read, the rest waits for the next round',
      );
    }
    await this.#save();
  }

  async #round(location: string): Promise<void> {
    const { pipeline, config } = this.#deps;
    const ledger = this.#ledgers.get(location)!;
    const { bucket } = parseS3Location(location);
    let newestModified = Number.NEGATIVE_INFINITY;
    let complete = false;
    try {
      // Failures first, read by key: the listing may no longer enter their date directories.
      for (const [key, entry] of Object.entries(ledger.state.retry)) {
        if (this.#halted()) break;
        pipeline.metrics.pollObjects.inc({ action: 'retried' });
        await this.#enqueue(ledger, { bucket, key, modified: new Date(entry.modified) });
      }
      const listing = listSince(pipeline.s3, location, new Date(ledger.state.watermark), {
        pruneByDate: config.datePartitions,
        ...(this.#deps.pageSize ? { pageSize: this.#deps.pageSize } : {}),
      });
      for await (const item of listing) {
        if (this.#halted()) break;
        newestModified = Math.max(newestModified, item.modified.getTime());
        if (ledger.decide(item.key, item.modified) !== 'read') continue;
        pipeline.metrics.pollObjects.inc({ action: 'read' });
        await this.#enqueue(ledger, item);
      }
      complete = !this.#halted();
    } finally {
      await Promise.allSettled([...this.#reads]);
      ledger.endRound({ complete, newestModified }, config.settleSeconds * 1000);
    }
    pipeline.metrics.pollRounds.inc({ outcome: complete ? 'complete' : 'partial' });
  }

  async #enqueue(ledger: LocationLedger, item: PolledObject): Promise<void> {
    await this.#objects.onSizeLessThan(MAX_WAITING);
    const read = this.#objects.add(() => this.#read(ledger, item));
    this.#reads.add(read);
    void read.finally(() => this.#reads.delete(read));
  }

  async #read(ledger: LocationLedger, item: PolledObject): Promise<void> {
    const { pipeline, route, config } = this.#deps;
    const ref = {
      bucket: item.bucket,
      key: item.key,
      eventTime: item.modified.getTime(),
      ...(item.eTag ? { eTag: item.eTag } : {}),
    };
    let outcome: ObjectRefOutcome;
    try {
      outcome = await processObjectRef(ref, {
        s3: (region) => pipeline.s3Clients.get(region),
        pipeline,
        route,
        signal: this.#abandon.signal,
      });
    } catch (err) {
      outcome = { done: false, records: 0, reason: 'read-failed', error: errorMessage(err) };
    }
    if (outcome.done) {
      ledger.done(item.key, item.modified);
      return;
    }
    const verdict = ledger.failed(
      item.key,
      item.modified,
      { reason: outcome.reason ?? 'delivery-failed', error: outcome.error },
      this.#now(),
      config.giveUpAfterHours * 3_600_000,
    );
    if (verdict === 'retry') return;
    // Given up: the dead letter names the object and why, so it can be fixed and replayed; until that
    // write is durable the object stays among those retried.
    try {
      await pipeline.deadLetter.write({
        code: 'S3_OBJECT_UNREADABLE',
        reason: `could not be read for ${config.giveUpAfterHours} hours: ${outcome.error ?? 'unknown error'}`,
        origin: { bucket: ref.bucket, key: ref.key, record: 0 },
      });
    } catch (err) {
      pipeline.log.error(
        { bucket: ref.bucket, key: ref.key, err: errorMessage(err) },
        'S3 poller: an object given up on could not be written to the dead letter; it is retried',
      );
      return;
    }
    pipeline.metrics.pollObjects.inc({ action: 'given-up' });
    pipeline.metrics.deadLetters.inc({ code: 'S3_OBJECT_UNREADABLE' });
    pipeline.log.error(
      { bucket: ref.bucket, key: ref.key, err: outcome.error },
      `S3 poller: gave up on an object unreadable for ${config.giveUpAfterHours} hours; it is in the dead letter`,
    );
    ledger.done(item.key, item.modified);
  }

  /** Queues a save; each writes the state as it is when its turn comes, which is always a whole one. */
  #save(options: { release?: boolean } = {}): Promise<void> {
    const { store, pipeline } = this.#deps;
    this.#lastSavedAt = Date.now();
    this.#saving = this.#saving.then(async () => {
      if (this.#standby) return;
      try {
        this.#state.savedBy = options.release ? undefined : this.#writer;
        this.#state.savedAt = this.#now().toISOString();
        await store.save(this.#state);
      } catch (err) {
        if (err instanceof PollStateConflictError) {
          this.#standby = true;
          pipeline.log.warn({ code: err.code, state: store.name }, err.message);
          return;
        }
        pipeline.log.error(
          { state: store.name, err: errorMessage(err) },
          'S3 poller: the state could not be saved; objects read since the last save may be read again',
        );
      }
    });
    return this.#saving;
  }
}
