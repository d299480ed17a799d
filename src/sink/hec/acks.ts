import type { Logger } from '../../observe/index.js';
import { classifyAckPoll } from './classify.js';
import { HecError } from './errors.js';
import type { Lane } from './transport.js';

/**
 * How a wait for an ackId ended: true (acked), false (timed out), 'superseded' (HEC handed the same id to
 * a newer batch on this channel, so this batch's ack can no longer be told apart), or a HecError (the
 * receiver says acks cannot work).
 */
export type AckResult = boolean | 'superseded' | HecError;

interface Waiter {
  resolve(result: AckResult): void;
}

/**
 * Polls /services/collector/ack for one lane's channel. An ack `true` is read-once, so each id is asked
 * for until it comes back true or its waiter gives up; polling backs off while nothing new is acked.
 */
export class AckPoller {
  private readonly pending = new Map<number, Waiter>();
  private timer: NodeJS.Timeout | undefined;
  private interval: number;
  private polling = false;
  private closed = false;

  constructor(
    private readonly lane: Lane,
    private readonly minIntervalMs: number,
    private readonly maxIntervalMs: number,
    private readonly log: Logger,
    /** Masks secrets in text that came from the receiver (a body could echo the token). */
    private readonly mask: (text: string) => string = (text) => text,
  ) {
    this.interval = minIntervalMs;
  }

  wait(ackId: number, timeoutMs: number): Promise<AckResult> {
    return new Promise((resolve) => {
      const older = this.pending.get(ackId);
      if (older) {
        // The id came back while a batch still waits on it: the indexer restarted, or a load balancer
        // without stickiness sent the request to another indexer, and ids on this channel count from 0
        // again. One `true` for the id could now settle either batch. The newer one keeps the id (after a
        // restart only the new counter can answer); the older one is sent again at once, a counted resend
        // that costs at worst a duplicate of one batch. Failing it back would also lose nothing, but only
        // after its whole SQS message is redelivered (more duplicates, minutes later); keeping both on one
        // id, as before, let one ack settle a batch that was never indexed.
        this.pending.delete(ackId);
        older.resolve('superseded');
      }
      const waiter: Waiter = {
        resolve: (result) => {
          clearTimeout(timeout);
          resolve(result);
        },
      };
      const timeout = setTimeout(() => {
        // Only its own waiter: a newer batch may hold the id by now.
        if (this.pending.get(ackId) === waiter) this.pending.delete(ackId);
        resolve(false);
      }, timeoutMs);
      this.pending.set(ackId, waiter);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.polling || this.closed || this.pending.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.poll();
    }, this.interval);
  }

  private async poll(): Promise<void> {
    if (this.pending.size === 0 || this.closed) return;
    this.polling = true;
    // The waiters asked about: an answer applies to them only, not to a batch that took an id over while
    // the poll was in flight.
    const asked = new Map(this.pending);
    let progressed = false;
    try {
      const res = await this.lane.pollAcks([...asked.keys()]);
      const verdict = classifyAckPoll(res.status, res.body, res.retryAfter, res.contentType);
      if (verdict.kind === 'fatal') {
        const url = this.lane.endpoint.url;
        const err = new HecError(
          verdict.code,
          this.mask(`HEC ack poll to ${url} refused: ${verdict.reason}`),
          {
            details: { url, status: res.status },
          },
        );
        for (const [id, waiter] of this.pending) {
          this.pending.delete(id);
          waiter.resolve(err);
        }
      } else if (verdict.kind === 'ok') {
        for (const [id, done] of verdict.acks) {
          const waiter = asked.get(id);
          if (done && waiter && this.pending.get(id) === waiter) {
            this.pending.delete(id);
            waiter.resolve(true);
            progressed = true;
          }
        }
      }
    } catch (err) {
      this.log.debug({ url: this.lane.endpoint.url, err: (err as Error).message }, 'HEC ack poll failed');
    } finally {
      this.polling = false;
    }
    this.interval = progressed ? this.minIntervalMs : Math.min(this.interval * 2, this.maxIntervalMs);
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
