import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { type EncodedLine, joinLines, lineBytes, lineText, Utf8Blocks } from '../../lines.js';
import { type HecEvent, hecEventParts } from '../../map/cim/index.js';
import { type Logger, logger, maskToken } from '../../observe/index.js';
import type { SentRecord, Sink, SinkRecord } from '../../types.js';
import { InFlight, SinkLifecycle, TAKEN } from '../lifecycle.js';
import { AckPoller } from './acks.js';
import { classifyHealth, classifyResponse, type ResponseClass } from './classify.js';
import { AdaptiveConcurrency, type ConcurrencyLimit, FixedConcurrency } from './concurrency.js';
import type { HecSinkConfig } from './config.js';
import { HecError } from './errors.js';
import { Endpoint, type HecResponse, Lane, laneDispatcher, resolveToken } from './transport.js';

const gzip = promisify(gzipCallback);

/**
 * Output buffer for one body's gzip. zlib's default (16 KiB) takes a round trip through the thread pool
 * per 16 KiB of output, 8-9 of them for a 1 MB batch; envelopes compress 7-8x, so a quarter of the input
 * holds the whole output in one (about 15 % less CPU per body, measured).
 */
function gzipChunk(raw: Buffer): number {
  return Math.max(16 * 1024, raw.length >>> 2);
}

export interface HecStats {
  /** Requests posted to /services/collector/event (every attempt). */
  requests: number;
  /** Events posted, counting every attempt. */
  sent: number;
  acked: number;
  /** Events posted again after a retryable error (busy, network). */
  retried: number;
  /** Times a batch was split to isolate a refused event. */
  split: number;
  rejected: number;
  /** Events posted again because the protocol requires it (ack time-out, or the good part of a split batch). */
  resent: number;
  failed: number;
  /** Body bytes on the wire (after gzip). */
  bytes: number;
  blocked: boolean;
  /** Requests the sink may have in flight now (fixed at `maxInFlight` unless adaptive concurrency is on). */
  concurrencyLimit: number;
}

export interface HecResponseInfo {
  url: string;
  status: number | 'network-error';
  kind: ResponseClass['kind'];
  events: number;
  bytes: number;
  durationMs: number;
  /** The concurrency limit after this response was taken into account. */
  concurrencyLimit: number;
}

export interface HecSinkDeps {
  /** Replaces the per-lane keep-alive clients (tests, proxies). */
  dispatcher?: Dispatcher;
  logger?: Logger;
  /** Called after every event post, for metrics. */
  onResponse?: (info: HecResponseInfo) => void;
}

export interface HecSink extends Sink<HecEvent> {
  stats(): HecStats;
}

interface Entry {
  /** The envelope as one line of JSON with its newline, encoded once (see Utf8Blocks); splits and resends reuse it. */
  line: EncodedLine;
  /** The record without its document: once serialised, only `line` is needed. */
  record: SentRecord;
  settled: boolean;
}

interface Batch {
  entries: Entry[];
  bytes: number;
}

/** setTimeout's ceiling; longer waits are cut into pieces by the loops that wait. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createHecSink(config: HecSinkConfig, deps: HecSinkDeps = {}): HecSink {
  const log = (deps.logger ?? logger()).child({ sink: 'hec' });
  const token = resolveToken(config);
  const authorization = `Splunk ${token}`;
  /** Text that came from a receiver goes into errors and logs; should it echo the token, it is masked. */
  const mask = (text: string) => maskToken(text, token);
  const endpoints = config.urls.map((u) => new Endpoint(u));
  const ownDispatchers: Dispatcher[] = [];
  const lanes: Lane[] = [];
  const pollers = new Map<Lane, AckPoller>();
  // Lanes are dealt over the endpoints so that every URL gets connections: lane i belongs to endpoint
  // i % endpoints.length (acquireLane relies on it).
  for (let i = 0; i < config.maxInFlight * endpoints.length; i++) {
    const endpoint = endpoints[i % endpoints.length]!;
    let dispatcher = deps.dispatcher;
    if (!dispatcher) {
      dispatcher = laneDispatcher(endpoint, config);
      ownDispatchers.push(dispatcher);
    }
    const lane = new Lane(endpoint, dispatcher, authorization, config.requestTimeoutMs);
    lanes.push(lane);
    if (config.ack.enabled) {
      pollers.set(
        lane,
        new AckPoller(lane, config.ack.pollIntervalMs, config.ack.maxPollIntervalMs, log, mask),
      );
    }
  }
  let inFlight = 0;
  const adaptive = config.adaptiveConcurrency;
  const concurrency: ConcurrencyLimit = adaptive.enabled
    ? new AdaptiveConcurrency({
        initial: adaptive.initial,
        max: config.maxInFlight,
        decreaseRatio: adaptive.decreaseRatio,
        rttDeviationThreshold: adaptive.rttDeviationThreshold,
      })
    : new FixedConcurrency(config.maxInFlight);
  const stats: Omit<HecStats, 'concurrencyLimit'> = {
    requests: 0,
    sent: 0,
    acked: 0,
    retried: 0,
    split: 0,
    rejected: 0,
    resent: 0,
    failed: 0,
    bytes: 0,
    blocked: false,
  };

  let current: Batch = { entries: [], bytes: 0 };
  const lines = new Utf8Blocks();
  let ageTimer: NodeJS.Timeout | undefined;
  /** When the current batch got its first event (its age counts from there). */
  let batchStartedAt = 0;
  const deliveries = new InFlight();
  /** write() calls not yet returned: records waiting for room in the pending-batch window. */
  const writes = new InFlight();
  const probes = new InFlight();
  /** Closing, and the timers that pace retries and waits (see pause()). */
  const lifecycle = new SinkLifecycle();
  let pendingBatches = 0;
  let capacityWaiters: (() => void)[] = [];
  let laneWaiters: (() => void)[] = [];
  let nextEndpoint = 0;
  let blockedUntil = 0;
  let blockError: HecError | undefined;
  const warnedNoAckId = new Set<string>();
  const warnedUnpolledAck = new Set<string>();
  /** Endpoints whose health probe failed, until one succeeds (logged once each way). */
  const unhealthy = new Set<Endpoint>();

  // A paced wait (see SinkLifecycle.pace: it keeps the process alive while the sink is open). A wait that
  // ends early (woken) clears its timer, so no timer outlives the wait it paced, and close() returns only
  // once nothing waits.
  function pause(ms: number, wakers?: (() => void)[]): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        lifecycle.unpace(timer);
        resolve();
      };
      const timer = lifecycle.pace(
        () => {
          // Woken by time: leave the wakers list (a wake-up swaps the list, so it may be gone already).
          const at = wakers?.indexOf(done) ?? -1;
          if (at >= 0) wakers?.splice(at, 1);
          done();
        },
        Math.min(MAX_TIMER_MS, Math.max(0, ms)),
      );
      wakers?.push(done);
    });
  }

  // --- settling: exactly one of ack / reject / fail per record -------------------------------------
  function ackAll(entries: Entry[]): void {
    for (const e of entries) {
      if (e.settled) continue;
      e.settled = true;
      stats.acked++;
      e.record.delivery.ack();
    }
  }
  function reject(entry: Entry, reason: string): void {
    if (entry.settled) return;
    entry.settled = true;
    stats.rejected++;
    entry.record.delivery.reject(reason, 'HEC_REJECTED', lineText(entry.line).trimEnd());
  }
  function failAll(entries: Entry[], err: Error): void {
    for (const e of entries) {
      if (e.settled) continue;
      e.settled = true;
      stats.failed++;
      e.record.delivery.fail(err);
    }
  }

  // --- lanes: requests in flight bounded by the concurrency limit, spread over healthy endpoints -----
  // Wakes every waiter: a waiter may also be sleeping on an endpoint's down time, so a single wake-up
  // could land on one that already left and strand the rest. Waiters are few (≤ pending batches).
  function wakeLaneWaiter(): void {
    const waiters = laneWaiters;
    laneWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Asks an endpoint that failed whether it is healthy again, on one of its free lanes, before it gets a
   * batch: a GET is cheaper than a batch refused again, and batches meanwhile go to other endpoints.
   */
  function probe(endpoint: Endpoint, lane: Lane): void {
    endpoint.probing = true;
    lane.busy = true;
    const probing = (async () => {
      let reason: string;
      try {
        const res = await lane.health();
        if (classifyHealth(res.status) === 'up') {
          endpoint.markUp();
          // A busy receiver recovers within one back-off many times a minute: only news after an outage
          // (a probe that failed) is worth an info line.
          const wasOut = unhealthy.delete(endpoint);
          log[wasOut ? 'info' : 'debug'](
            { url: endpoint.url, status: res.status },
            'HEC endpoint healthy again',
          );
          return;
        }
        reason = `HTTP ${res.status}`;
      } catch (err) {
        reason = (err as Error).message;
      }
      endpoint.stillDown(Date.now(), config.healthCheckIntervalMs);
      if (!unhealthy.has(endpoint)) {
        unhealthy.add(endpoint);
        log.warn(
          { url: endpoint.url, reason },
          `HEC endpoint ${endpoint.url} is unhealthy (${reason}); batches go to other endpoints, and its health is checked every ${config.healthCheckIntervalMs} ms`,
        );
      }
    })().finally(() => {
      endpoint.probing = false;
      lane.busy = false;
      wakeLaneWaiter();
    });
    void probes.add(probing);
  }

  /**
   * A free lane of a healthy endpoint, within the concurrency limit; undefined once `deadline` passed (the
   * batch's retry window), so that no wait for a connection outlasts the window.
   */
  async function acquireLane(deadline: number): Promise<Lane | undefined> {
    for (;;) {
      const now = Date.now();
      if (now >= deadline) return undefined;
      // Wake at the deadline at the latest, or when the soonest endpoint's down time ends.
      let wakeAt = deadline;
      if (inFlight < concurrency.limit) {
        // Endpoints take turns; within one, the lowest free lane is used, so that as many connections are
        // open as the concurrency needs, and they stay warm instead of each going cold between uses.
        for (let k = 0; k < endpoints.length; k++) {
          const e = (nextEndpoint + k) % endpoints.length;
          const endpoint = endpoints[e]!;
          if (endpoint.probing) continue;
          if (!endpoint.isUp(now)) {
            wakeAt = Math.min(wakeAt, endpoint.downUntil);
            continue;
          }
          let lane: Lane | undefined;
          for (let i = e; i < lanes.length && !lane; i += endpoints.length) {
            if (!lanes[i]!.busy) lane = lanes[i];
          }
          if (!lane) continue;
          if (endpoint.needsProbe) {
            // Its down time is over: /health decides whether it takes batches again (a release wakes us).
            probe(endpoint, lane);
            continue;
          }
          nextEndpoint = (e + 1) % endpoints.length;
          lane.busy = true;
          inFlight++;
          concurrency.onRequest(inFlight);
          return lane;
        }
      }
      // Wait for a lane to be released or a probe to answer, an endpoint's down time to end, or the deadline.
      await pause(wakeAt - now, laneWaiters);
    }
  }

  function releaseLane(lane: Lane): void {
    lane.busy = false;
    inFlight--;
    wakeLaneWaiter();
  }

  // --- the delivery loop for one batch ------------------------------------------------------------
  function backoff(attempt: number, retryAfterMs: number | undefined): number {
    const cap = Math.min(config.retry.maxDelayMs, config.retry.initialDelayMs * 2 ** Math.min(attempt, 20));
    const jittered = cap / 2 + Math.random() * (cap / 2);
    // Retry-After counts up to the max delay: the operator's bound on any one wait (see Endpoint.markDown).
    return Math.max(jittered, Math.min(retryAfterMs ?? 0, config.retry.maxDelayMs));
  }

  function block(err: HecError): void {
    blockedUntil = Date.now() + config.blockedRetryMs;
    if (!stats.blocked || blockError?.code !== err.code) {
      // Once per transition: an operator must act (token, index, ack setting); data is failed, not dropped.
      log.error(
        { code: err.code, ...err.details },
        `HEC sink blocked: ${err.message}. Records are failed back to the source for redelivery; retrying in ${config.blockedRetryMs} ms.`,
      );
    }
    stats.blocked = true;
    blockError = err;
  }

  async function post(lane: Lane, entries: Entry[]): Promise<{ verdict: ResponseClass; res?: HecResponse }> {
    const raw = joinLines(entries.map((e) => e.line));
    const body = config.gzip ? await gzip(raw, { level: config.gzipLevel, chunkSize: gzipChunk(raw) }) : raw;
    const started = performance.now();
    stats.requests++;
    stats.sent += entries.length;
    stats.bytes += body.length;
    const answered = (status: number | 'network-error', kind: ResponseClass['kind']): void => {
      const durationMs = performance.now() - started;
      const before = concurrency.limit;
      // Every reply the classifier retries is push-back: busy, throttled, unhealthy, failing or unreachable.
      concurrency.onResponse({ rttMs: durationMs, overloaded: kind === 'retry' });
      if (concurrency.limit !== before) {
        log.debug({ from: before, to: concurrency.limit, status }, 'HEC concurrency limit changed');
      }
      deps.onResponse?.({
        url: lane.endpoint.url,
        status,
        kind,
        events: entries.length,
        bytes: body.length,
        durationMs,
        concurrencyLimit: concurrency.limit,
      });
    };
    let res: HecResponse;
    try {
      res = await lane.postEvents(body, config.gzip);
    } catch (err) {
      answered('network-error', 'retry');
      return { verdict: { kind: 'retry', reason: `network error: ${(err as Error).message}` } };
    }
    const verdict = classifyResponse(res.status, res.body, res.retryAfter, res.contentType);
    answered(res.status, verdict.kind);
    return { verdict, res };
  }

  async function deliver(entries: Entry[]): Promise<void> {
    const started = Date.now();
    let attempt = 0;
    let lastReason = 'no HEC endpoint was up with a free connection';
    for (;;) {
      if (Date.now() < blockedUntil && blockError) {
        failAll(entries, blockError);
        return;
      }
      const lane = await acquireLane(started + config.retry.windowMs);
      if (!lane) {
        const err = new HecError(
          'HEC_UNAVAILABLE',
          `HEC did not take the batch within ${config.retry.windowMs} ms: ${lastReason}`,
          { details: { urls: config.urls.join(' ') } },
        );
        log.warn({ events: entries.length }, err.message);
        failAll(entries, err);
        return;
      }
      // Blocked while this batch waited for a lane: do not spend a request on a known-bad configuration.
      if (Date.now() < blockedUntil && blockError) {
        releaseLane(lane);
        failAll(entries, blockError);
        return;
      }
      let outcome: Awaited<ReturnType<typeof post>>;
      try {
        outcome = await post(lane, entries);
      } finally {
        releaseLane(lane);
      }
      const { verdict, res } = outcome;
      const where = { url: lane.endpoint.url, status: res?.status ?? 0 };
      switch (verdict.kind) {
        case 'ok': {
          lane.endpoint.markUp();
          if (stats.blocked) {
            stats.blocked = false;
            blockError = undefined;
            log.info(where, 'HEC sink unblocked');
          }
          const poller = pollers.get(lane);
          if (!poller) {
            if (verdict.ackId !== undefined && !warnedUnpolledAck.has(where.url)) {
              warnedUnpolledAck.add(where.url);
              log.warn(
                where,
                `HEC at ${where.url} answered with an ackId: its token has indexer acknowledgement on, but sinks.hec.ack.enabled is off, so batches count as delivered on HTTP ${where.status} before they are indexed; turn ack on to count them only once indexed`,
              );
            }
            ackAll(entries);
            return;
          }
          if (verdict.ackId === undefined) {
            // Splunk Cloud honours indexer ack only for Firehose: a 200 with code 0 is the best there is.
            if (!warnedNoAckId.has(where.url)) {
              warnedNoAckId.add(where.url);
              log.warn(
                where,
                `HEC at ${where.url} answered code 0 without an ackId although sinks.hec.ack.enabled is set: indexer acknowledgement is not in effect there, so batches count as delivered on HTTP ${where.status} code 0`,
              );
            }
            ackAll(entries);
            return;
          }
          const acked = await poller.wait(verdict.ackId, config.ack.timeoutMs);
          if (acked === true) {
            ackAll(entries);
            return;
          }
          if (acked instanceof HecError) {
            block(acked);
            failAll(entries, acked);
            return;
          }
          if (Date.now() - started > config.retry.windowMs) {
            const err = new HecError(
              'HEC_UNAVAILABLE',
              `HEC never acknowledged the batch within ${config.retry.windowMs} ms`,
              { details: { ...where, ackId: verdict.ackId } },
            );
            log.warn({ ...where, events: entries.length }, err.message);
            failAll(entries, err);
            return;
          }
          stats.resent += entries.length;
          log.warn(
            { ...where, ackId: verdict.ackId, channel: lane.channel, events: entries.length },
            acked === 'superseded'
              ? "HEC gave this ackId to a newer batch on the channel (indexer restart, or a load balancer without sticky sessions): this batch's ack cannot be known; sending it again"
              : 'HEC ack timed out; sending the batch again',
          );
          lastReason = acked === 'superseded' ? 'its ackId was reused' : 'its ack never came';
          break;
        }
        case 'retry': {
          lane.endpoint.markDown(Date.now(), verdict.retryAfterMs, config.retry.maxDelayMs);
          const delay = backoff(attempt++, verdict.retryAfterMs);
          if (Date.now() + delay - started > config.retry.windowMs) {
            const err = new HecError(
              'HEC_UNAVAILABLE',
              `HEC did not take the batch within ${config.retry.windowMs} ms: ${verdict.reason}`,
              { details: where },
            );
            log.warn({ ...where, events: entries.length }, err.message);
            failAll(entries, err);
            return;
          }
          stats.retried += entries.length;
          lastReason = verdict.reason;
          log.debug({ ...where, delay, reason: verdict.reason }, 'HEC retry');
          await pause(delay);
          break;
        }
        case 'split': {
          if (entries.length === 1) {
            reject(entries[0]!, `HEC refused the event: ${verdict.reason}`);
            return;
          }
          stats.split++;
          const bad = verdict.invalidEvent;
          if (bad !== undefined && bad < entries.length) {
            reject(entries[bad]!, `HEC refused the event: ${verdict.reason}`);
            const rest = entries.filter((_, i) => i !== bad);
            stats.resent += rest.length;
            await deliver(rest);
            return;
          }
          // No position given: halve until the refused event stands alone.
          const mid = Math.ceil(entries.length / 2);
          stats.resent += entries.length;
          await deliver(entries.slice(0, mid));
          await deliver(entries.slice(mid));
          return;
        }
        case 'fatal': {
          const err = new HecError(
            verdict.code,
            mask(`HEC at ${where.url} refused the request: ${verdict.reason}`),
            { details: { ...where, hecCode: verdict.hecCode } },
          );
          block(err);
          failAll(entries, err);
          return;
        }
      }
    }
  }

  // --- batching ------------------------------------------------------------------------------------
  function seal(): void {
    if (ageTimer) clearTimeout(ageTimer);
    ageTimer = undefined;
    if (current.entries.length === 0) return;
    const batch = current;
    current = { entries: [], bytes: 0 };
    pendingBatches++;
    const delivery = deliver(batch.entries)
      .catch((err: unknown) => {
        // deliver() settles every entry itself; this only guards against a bug leaving records hanging.
        failAll(batch.entries, err instanceof Error ? err : new Error(String(err)));
      })
      .finally(() => {
        pendingBatches--;
        const waiters = capacityWaiters;
        capacityWaiters = [];
        for (const w of waiters) w();
      });
    void deliveries.add(delivery);
  }

  async function takeWhenRoom(record: SinkRecord<HecEvent>): Promise<void> {
    while (pendingBatches >= config.maxPendingBatches) {
      await new Promise<void>((r) => capacityWaiters.push(r));
    }
    buffer(record);
  }

  function buffer(record: SinkRecord<HecEvent>): void {
    const [head, event, tail] = hecEventParts(envelope(record), config.indexedFields);
    const line = lines.encode([head, event, tail, '\n']);
    const bytes = lineBytes(line);
    const { id, logType, origin, delivery } = record;
    const entry: Entry = { line, record: { id, logType, origin, delivery }, settled: false };
    if (bytes > config.maxEventBytes) {
      reject(
        entry,
        `event is ${bytes} bytes, over the ${config.maxEventBytes}-byte limit (HEC would refuse the whole request)`,
      );
      return;
    }
    if (current.entries.length > 0 && current.bytes + bytes > config.batch.maxBytes) seal();
    current.entries.push(entry);
    current.bytes += bytes;
    if (current.entries.length >= config.batch.maxEvents || current.bytes >= config.batch.maxBytes) {
      seal();
    } else if (!ageTimer) {
      batchStartedAt = Date.now();
      ageTimer = setTimeout(seal, config.batch.maxAgeMs);
    }
  }

  /**
   * Sends what is buffered and waits for every record written before the call: writes still waiting for
   * room in the pending-batch window join the buffer only when a delivery ends, so they are waited for
   * first (a flush that saw no delivery left them behind, with an age timer, after close).
   */
  async function flush(): Promise<void> {
    await writes.settled();
    seal();
    while (deliveries.size > 0) await deliveries.settled();
  }

  /** The event's own index, else its account's, its log type's, the sink's (undefined: the token's). */
  function indexOf(record: SinkRecord<HecEvent>): string | undefined {
    const ev = record.doc;
    if (ev.index !== undefined) return ev.index;
    const byAccount = record.account === undefined ? undefined : config.accountIndexes?.[record.account];
    return byAccount ?? config.indexes[record.logType] ?? config.index;
  }

  function envelope(record: SinkRecord<HecEvent>): HecEvent {
    const ev = record.doc;
    const sourcetype =
      (ev.sourcetype === 'aws:cloudtrail' ? config.sourcetypes.cloudtrail : config.sourcetypes.vpcflow) ??
      ev.sourcetype;
    const host = ev.host ?? config.host;
    const index = indexOf(record);
    return {
      time: ev.time,
      host,
      source: config.source ?? ev.source,
      sourcetype: sourcetype as HecEvent['sourcetype'],
      index,
      event: ev.event,
      eventJson: ev.eventJson,
      fields: ev.fields,
    };
  }

  return {
    name: 'hec',
    schema: 'cim',
    logTypes: config.logTypes,

    write(record) {
      // Refused from the moment close() is called: close waits for what was taken before, and a record
      // taken after it would be sent on released connections or left behind.
      if (lifecycle.closing) {
        return Promise.reject(
          new HecError(
            'HEC_CLOSED',
            'HEC sink is closed: write() after close() was refused; the record was not taken',
          ),
        );
      }
      // With room (the usual case) the record is taken at once, with no promise of its own per record.
      if (pendingBatches < config.maxPendingBatches) {
        buffer(record);
        return TAKEN;
      }
      return writes.add(takeWhenRoom(record));
    },

    /**
     * Backs /readyz: not ready while the sink is blocked on a configuration error (token invalid or
     * disabled, wrong index, a foreign service answering), since HEC's health endpoint does not check the
     * token and would call a sink that fails every batch healthy; otherwise ready when one endpoint at
     * least answers the health endpoint with 200. The block lifts, and readiness with it, when a batch is
     * taken again.
     */
    async check() {
      if (stats.blocked && blockError) {
        // The message names URL, HTTP status and HEC's reply, already masked of the token.
        throw new HecError(blockError.code, `HEC sink is blocked: ${blockError.message}`, {
          cause: blockError,
          details: blockError.details,
        });
      }
      const problems: string[] = [];
      for (const endpoint of endpoints) {
        const lane = lanes.find((l) => l.endpoint === endpoint);
        if (!lane) continue;
        try {
          const res = await lane.health();
          if (res.status === 200) return;
          problems.push(`${endpoint.url} answered HTTP ${res.status}`);
        } catch (err) {
          problems.push(`${endpoint.url}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      throw new HecError('HEC_UNAVAILABLE', `no HEC endpoint is healthy (${problems.join('; ')})`);
    },

    sendNow() {
      if (current.entries.length === 0) return;
      const age = Math.min(config.batch.idleAgeMs, config.batch.maxAgeMs);
      const wait = batchStartedAt + age - Date.now();
      if (wait <= 0) {
        seal();
        return;
      }
      if (ageTimer) clearTimeout(ageTimer);
      ageTimer = setTimeout(seal, wait);
    },

    flush,

    close() {
      return lifecycle.close(
        async () => {
          // Nothing new arrives now; wait until nothing is pending, waiting for room or buffered.
          while (writes.size > 0 || current.entries.length > 0 || deliveries.size > 0) await flush();
          await probes.settled();
        },
        async () => {
          for (const poller of pollers.values()) poller.close();
          await Promise.all(ownDispatchers.map((d) => d.close()));
        },
      );
    },

    stats() {
      return { ...stats, concurrencyLimit: concurrency.limit };
    },
  };
}
