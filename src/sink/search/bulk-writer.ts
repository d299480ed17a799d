import { errorMessage } from '../../errors.js';
import { type EncodedLine, joinLines, lineBytes, lineText, Utf8Blocks } from '../../lines.js';
import { objectUrl } from '../../map/object-url.js';
import type { Logger } from '../../observe/index.js';
import type { SentRecord, Sink, SinkRecord } from '../../types.js';
import { InFlight, SinkLifecycle, TAKEN } from '../lifecycle.js';
import { type BulkResult, type SearchClient, SearchTransportError } from './client.js';
import type { SearchSinkConfig } from './config.js';
import { SearchSinkError, type SearchSinkErrorCode } from './errors.js';
import { backoffDelay, classifyItem, classifyRequest } from './outcome.js';
import { createTargetResolver } from './target.js';

export type SearchDocument = Record<string, unknown>;

export interface SearchSinkStats {
  /** Documents the server created (or, with op `index`, wrote). */
  indexed: number;
  /** `create` found the id already there: a resend that made no duplicate. */
  duplicates: number;
  /** Item resends after 429/5xx (one document retried twice counts twice). */
  retried: number;
  /** Sent to the dead letter (mapping or parsing rejection, unserialisable, too large). */
  rejected: number;
  /** Given back to the source for redelivery (retry window exhausted, auth, index unusable). */
  failed: number;
  /** Bulk requests sent, including retries. */
  requests: number;
  /** NDJSON bytes sent, including retries. */
  bytes: number;
}

/** What one bulk request came to, reported after each one (metrics). */
export interface SearchResponseInfo {
  /** HTTP status of the bulk request; 'network-error' when no answer came. */
  status: number | 'network-error';
  /** The request, or some of its documents (items answered 429 or 5xx), goes out again after a back-off. */
  retry: boolean;
  /** Documents in the request. */
  items: number;
  /** NDJSON bytes of the request body. */
  bytes: number;
  durationMs: number;
}

export interface SearchSink extends Sink<SearchDocument> {
  stats(): SearchSinkStats;
  /** Throws when the cluster cannot be reached or refuses us; backs readiness checks. */
  check(): Promise<void>;
}

interface Entry {
  /** The record without its document: once serialised, only `line` is needed, and memory stays bounded by bytes. */
  record: SentRecord;
  /** Action and source lines, encoded once (see Utf8Blocks) and reused for every attempt. */
  line: EncodedLine;
}

export interface BulkWriterOptions {
  config: SearchSinkConfig;
  client: SearchClient;
  log: Logger;
  /** Runs once before the first request; a failure fails the records and is tried again later. */
  setup?: () => Promise<void>;
  random?: () => number;
  /** Called after every bulk request, for metrics. */
  onResponse?: (info: SearchResponseInfo) => void;
}

/**
 * The bulk writer: buffers serialised documents, flushes by bytes, count or interval, keeps at most
 * `concurrency` requests in flight, and settles every record exactly once through its Delivery.
 */
export function createBulkWriter(options: BulkWriterOptions): SearchSink {
  const { config, client, log } = options;
  const random = options.random ?? Math.random;
  const target = createTargetResolver(config.target);
  const maxHeld = config.maxBufferedBytes ?? config.flushBytes * (config.concurrency + 1);
  const stats: SearchSinkStats = {
    indexed: 0,
    duplicates: 0,
    retried: 0,
    rejected: 0,
    failed: 0,
    requests: 0,
    bytes: 0,
  };

  let batch: Entry[] = [];
  const lines = new Utf8Blocks();
  let batchBytes = 0;
  /** Bytes buffered or in flight; write() waits while this is over the limit. */
  let held = 0;
  let active = 0;
  let timer: NodeJS.Timeout | undefined;
  /** When the current batch got its first document. */
  let batchStartedAt = 0;
  let setupDone: Promise<void> | undefined;
  /**
   * A failure that waits on the operator (credentials, privileges, an unusable index, templates that
   * cannot be installed): every record fails back until it is fixed, so check() reports the sink not
   * ready. Cleared when setup or a bulk request goes through again.
   */
  let blocked: SearchSinkError | undefined;
  const waiting: Entry[][] = [];
  const deliveries = new InFlight();
  /** write() calls not yet returned: a write waiting for buffer space still has a record to add. */
  const writes = new InFlight();
  const spaceWaiters: Array<() => void> = [];
  /** Closing, and the flush timers and back-offs, which keep the process alive only while the sink is open. */
  const lifecycle = new SinkLifecycle();
  // Each entry is settled exactly once; the last-resort path in pump() skips those already settled.
  const settledEntries = new WeakSet<Entry>();
  const unsettled = (e: Entry): boolean => !settledEntries.has(e);

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => lifecycle.pace(resolve, ms));
  }

  function release(entry: Entry): void {
    held -= lineBytes(entry.line);
    while (spaceWaiters.length > 0 && held < maxHeld) spaceWaiters.shift()!();
  }

  function settle(entry: Entry, outcome: 'ack' | 'duplicate'): void;
  function settle(entry: Entry, outcome: 'reject', reason: string, code: SearchSinkErrorCode): void;
  function settle(entry: Entry, outcome: 'fail', error: SearchSinkError): void;
  function settle(
    entry: Entry,
    outcome: 'ack' | 'duplicate' | 'reject' | 'fail',
    detail?: string | SearchSinkError,
    code?: SearchSinkErrorCode,
  ): void {
    if (settledEntries.has(entry)) return;
    settledEntries.add(entry);
    release(entry);
    const delivery = entry.record.delivery;
    try {
      if (outcome === 'ack') {
        stats.indexed++;
        delivery.ack();
      } else if (outcome === 'duplicate') {
        stats.duplicates++;
        delivery.ack();
      } else if (outcome === 'reject') {
        stats.rejected++;
        // The source line (after the action line) is the document as sent.
        delivery.reject(detail as string, code!, sourceLineOf(entry.line));
      } else {
        stats.failed++;
        delivery.fail(detail as SearchSinkError);
      }
    } catch (err) {
      // A faulty callback must not strand the rest of the batch.
      log.error({ err, id: entry.record.id }, 'search sink: delivery callback threw');
    }
  }

  function block(code: SearchSinkErrorCode, reason: string): void {
    if (!isConfigurationError(code)) return;
    blocked = new SearchSinkError(code, `search sink is blocked: ${reason}`);
  }

  function unblock(): void {
    if (!blocked) return;
    log.info({ code: blocked.code }, 'search sink unblocked');
    blocked = undefined;
  }

  /**
   * Fails the entries with one error among them, as the HEC sink does: an error per record would be
   * hundreds of thousands of them when the cluster is down or refuses the credentials, each kept by its
   * object until the object ends.
   */
  function failAll(entries: Entry[], code: SearchSinkErrorCode, reason: string): void {
    if (entries.length === 0) return;
    const error = batchError(entries, code, reason);
    for (const entry of entries) settle(entry, 'fail', error);
  }

  function ensureSetup(): Promise<void> {
    if (!options.setup) return Promise.resolve();
    setupDone ??= options.setup().catch((err: unknown) => {
      setupDone = undefined;
      throw err;
    });
    return setupDone;
  }

  /**
   * Waits for template setup. A cluster that is down or overloaded gets the same retry window as a bulk
   * request; a refusal (privilege, invalid template) fails the entries at once.
   */
  async function setupReady(entries: Entry[]): Promise<boolean> {
    const started = Date.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await ensureSetup();
        if (blocked?.code === 'SEARCH_SETUP') blocked = undefined;
        return true;
      } catch (err) {
        const delay = backoffDelay(attempt, config.retry.initialDelayMs, config.retry.maxDelayMs, random);
        const transient = isTransientSetupError(err);
        if (!transient || Date.now() + delay - started > config.retry.maxElapsedMs) {
          log.error(
            { err: errorMessage(err) },
            'search sink: template setup failed; set setup.auto false to skip it',
          );
          if (!transient) block('SEARCH_SETUP', `template setup failed: ${errorMessage(err)}`);
          failAll(
            entries,
            transient ? 'SEARCH_RETRIES_EXHAUSTED' : 'SEARCH_SETUP',
            `template setup failed: ${errorMessage(err)}`,
          );
          return false;
        }
        await sleep(delay);
      }
    }
  }

  /** Sends one batch until every entry is settled; holds its concurrency slot through back-offs. */
  async function deliver(entries: Entry[]): Promise<void> {
    if (!(await setupReady(entries))) return;
    const started = Date.now();
    let pending = entries;
    let attempt = 0;
    while (pending.length > 0) {
      const body = joinLines(pending.map((e) => e.line));
      const bytes = body.length;
      const sent = performance.now();
      let result: unknown;
      try {
        result = await client.bulk(body);
      } catch (err) {
        result = err;
      }
      const durationMs = performance.now() - sent;
      stats.requests++;
      stats.bytes += bytes;
      const outcome = classifyRequest(result, pending.length);
      const answered = (retry: boolean): void =>
        options.onResponse?.({
          status: result instanceof Error ? 'network-error' : (result as BulkResult).status,
          retry,
          items: pending.length,
          bytes,
          durationMs,
        });

      if (outcome.kind === 'fail') {
        answered(false);
        log.error(
          { code: outcome.code, documents: pending.length, reason: outcome.reason },
          'search sink: bulk failed',
        );
        block(outcome.code, outcome.reason);
        failAll(pending, outcome.code, outcome.reason);
        return;
      }
      if (outcome.kind === 'split') {
        answered(false);
        if (pending.length === 1) {
          settle(
            pending[0]!,
            'reject',
            `document too large for the server: ${outcome.reason}`,
            'SEARCH_TOO_LARGE',
          );
          return;
        }
        const half = Math.ceil(pending.length / 2);
        await deliver(pending.slice(0, half));
        await deliver(pending.slice(half));
        return;
      }

      let retry: Entry[];
      let reason: string;
      if (outcome.kind === 'retry') {
        retry = pending;
        reason = outcome.reason;
      } else {
        retry = [];
        reason = '';
        let written = false;
        let refused: { code: SearchSinkErrorCode; reason: string } | undefined;
        /** Items refused for good, by code: failed after the loop, one error per code. */
        const failed = new Map<SearchSinkErrorCode, { entries: Entry[]; reason: string }>();
        for (let i = 0; i < pending.length; i++) {
          const entry = pending[i]!;
          const item = classifyItem(outcome.items[i], target.op);
          switch (item.kind) {
            case 'indexed':
              written = true;
              settle(entry, 'ack');
              break;
            case 'duplicate':
              written = true;
              settle(entry, 'duplicate');
              break;
            case 'reject':
              settle(entry, 'reject', item.reason, 'SEARCH_REJECTED');
              break;
            case 'fail': {
              refused ??= item;
              const same = failed.get(item.code);
              if (same) same.entries.push(entry);
              else failed.set(item.code, { entries: [entry], reason: item.reason });
              break;
            }
            case 'retry':
              retry.push(entry);
              reason = item.reason;
              break;
          }
        }
        for (const [code, group] of failed) failAll(group.entries, code, group.reason);
        if (refused && isConfigurationError(refused.code)) block(refused.code, refused.reason);
        else if (written) unblock();
      }
      if (retry.length === 0) {
        answered(false);
        return;
      }
      const delay = backoffDelay(attempt++, config.retry.initialDelayMs, config.retry.maxDelayMs, random);
      const exhausted = Date.now() + delay - started > config.retry.maxElapsedMs;
      answered(!exhausted);
      if (exhausted) {
        log.error(
          { documents: retry.length, attempts: attempt, reason },
          'search sink: retry window exhausted',
        );
        failAll(retry, 'SEARCH_RETRIES_EXHAUSTED', `still failing after ${attempt} attempts: ${reason}`);
        return;
      }
      if (outcome.kind === 'items') stats.retried += retry.length;
      log.warn({ documents: retry.length, attempt, delayMs: delay, reason }, 'search sink: retrying');
      await sleep(delay);
      pending = retry;
    }
  }

  function pump(): void {
    while (active < config.concurrency && waiting.length > 0) {
      const entries = waiting.shift()!;
      active++;
      const delivery = deliver(entries)
        .catch((err: unknown) => {
          // Only a bug gets here; still, nothing may stay unsettled.
          log.error({ err }, 'search sink: unexpected error while delivering');
          failAll(entries.filter(unsettled), 'SEARCH_FAILED', errorMessage(err));
        })
        .finally(() => {
          active--;
          pump();
        });
      void deliveries.add(delivery);
    }
  }

  function dispatch(): void {
    lifecycle.unpace(timer);
    timer = undefined;
    if (batch.length === 0) return;
    waiting.push(batch);
    batch = [];
    batchBytes = 0;
    pump();
  }

  /** Sends the current batch and resolves when every batch queued or in flight is settled. */
  async function flush(): Promise<void> {
    dispatch();
    while (waiting.length > 0 || deliveries.size > 0) {
      await deliveries.settled();
    }
  }

  /**
   * Takes one serialised entry into the current batch, first waiting while the buffer is full. A write
   * waiting here when close() is called still adds its record, and close() waits for it.
   */
  async function takeWhenRoom(entry: Entry): Promise<void> {
    while (mustWait(entry)) {
      if (batch.length > 0) dispatch();
      await new Promise<void>((resolve) => spaceWaiters.push(resolve));
    }
    buffer(entry);
  }

  /** Back-pressure: buffered + in-flight bytes would exceed the limit (one oversized entry still passes). */
  function mustWait(entry: Entry): boolean {
    return held > 0 && held + lineBytes(entry.line) > maxHeld;
  }

  function buffer(entry: Entry): void {
    const bytes = lineBytes(entry.line);
    held += bytes;
    batch.push(entry);
    batchBytes += bytes;
    if (lifecycle.closing || batchBytes >= config.flushBytes || batch.length >= config.flushCount) {
      // Closing: nothing more will join this batch, and close() is waiting for it.
      dispatch();
    } else if (!timer) {
      batchStartedAt = Date.now();
      timer = lifecycle.pace(dispatch, config.flushIntervalMs);
    }
  }

  return {
    name: 'search',
    schema: 'ecs',
    logTypes: config.logTypes,

    sendNow(): void {
      if (batch.length === 0) return;
      const wait = batchStartedAt + Math.min(config.idleFlushMs, config.flushIntervalMs) - Date.now();
      if (wait <= 0 || lifecycle.closing) {
        dispatch();
        return;
      }
      lifecycle.unpace(timer);
      timer = lifecycle.pace(dispatch, wait);
    },

    write(record: SinkRecord<SearchDocument>): Promise<void> {
      // Refused from the moment close() is called: close waits for what was taken before, and a record
      // taken after it would be sent on a closed client or left behind.
      if (lifecycle.closing) {
        stats.failed++;
        record.delivery.fail(
          new SearchSinkError(
            'SEARCH_CLOSED',
            `search sink is closed: write() after close() was refused; ${record.id} was not written`,
            { details: { id: record.id, bucket: record.origin.bucket, key: record.origin.key } },
          ),
        );
        return TAKEN;
      }
      let line: EncodedLine;
      try {
        const action = target.actionLine(record.logType, record.id, record.doc, record.account);
        line = lines.encode([action, JSON.stringify(record.doc), '\n']);
      } catch (err) {
        stats.rejected++;
        record.delivery.reject(
          `document cannot be serialised to JSON: ${errorMessage(err)}`,
          'SEARCH_SERIALIZE',
        );
        return TAKEN;
      }
      // Once serialised, only the line is kept, not the document (one fixed-shape object per record).
      const { id, logType, origin, delivery } = record;
      const entry: Entry = {
        record: { id, logType, origin, delivery },
        line,
      };
      // With room (the usual case) the entry is buffered at once, with no promise of its own per record.
      if (!mustWait(entry)) {
        buffer(entry);
        return TAKEN;
      }
      return writes.add(takeWhenRoom(entry));
    },

    flush,

    close(): Promise<void> {
      return lifecycle.close(
        async () => {
          // Nothing new arrives now; wait until nothing is pending, waiting for room or buffered.
          while (writes.size > 0 || batch.length > 0 || waiting.length > 0 || deliveries.size > 0) {
            dispatch();
            await Promise.all([writes.settled(), deliveries.settled()]);
          }
        },
        () => client.close(),
      );
    },

    stats: () => ({ ...stats }),

    /**
     * Not ready while blocked on a configuration error: the cluster's root answers 200 to credentials
     * that lack the write privilege, and to a sink whose index is unusable. Otherwise ready when the
     * cluster answers.
     */
    async check(): Promise<void> {
      if (blocked) throw blocked;
      const res = await client.request('GET', '/');
      if (res.status < 200 || res.status >= 300) {
        throw new SearchSinkError(
          res.status === 401 || res.status === 403 ? 'SEARCH_AUTH' : 'SEARCH_FAILED',
          `search cluster answered HTTP ${res.status} to a health check`,
          { details: { status: res.status } },
        );
      }
    },
  };
}

/** Codes that no retry fixes and that hit every record alike, so the sink as a whole is not ready. */
function isConfigurationError(code: SearchSinkErrorCode): boolean {
  return (
    code === 'SEARCH_AUTH' ||
    code === 'SEARCH_FAILED' ||
    code === 'SEARCH_SETUP' ||
    code === 'SEARCH_BAD_RESPONSE'
  );
}

function isTransientSetupError(err: unknown): boolean {
  if (err instanceof SearchTransportError) return true;
  if (!(err instanceof SearchSinkError)) return false;
  if (err.cause instanceof SearchTransportError) return true;
  const status = err.details.status;
  return typeof status === 'number' && (status === 429 || status >= 500);
}

function describe(entry: Entry): string {
  const { origin, id } = entry.record;
  return `document ${id} (${objectUrl(origin)} record ${origin.record})`;
}

/** One error for the entries of a batch that failed alike: how many, and the first of them to look up. */
function batchError(entries: Entry[], code: SearchSinkErrorCode, reason: string): SearchSinkError {
  const first = entries[0]!;
  const what =
    entries.length === 1
      ? describe(first)
      : `${entries.length} documents (${describe(first)} and ${entries.length - 1} more)`;
  const { origin, id } = first.record;
  return new SearchSinkError(code, `search sink could not write ${what}: ${reason}`, {
    details: { documents: entries.length, id, bucket: origin.bucket, key: origin.key, record: origin.record },
  });
}

/** The source line of an action and source pair: the document as sent. */
function sourceLineOf(line: EncodedLine): string {
  const text = lineText(line);
  return text.slice(text.indexOf('\n') + 1).trimEnd();
}
