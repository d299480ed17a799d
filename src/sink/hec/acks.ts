import type { Logger } from '../../observe/index.js';
import { classifyResponse } from './classify.js';
import { HecError } from './errors.js';
import type { Lane } from './transport.js';

interface Waiter {
  resolve(result: true | HecError): void;
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
  ) {
    this.interval = minIntervalMs;
  }

  /** Resolves true when acked, a HecError when the receiver says acks cannot work, or false on time-out. */
  wait(ackId: number, timeoutMs: number): Promise<boolean | HecError> {
    return new Promise((resolve) => {
      const timeout = setTimeout(() => {
        this.pending.delete(ackId);
        resolve(false);
      }, timeoutMs);
      this.pending.set(ackId, {
        resolve: (result) => {
          clearTimeout(timeout);
          resolve(result);
        },
      });
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
    const ids = [...this.pending.keys()];
    let progressed = false;
    try {
      const res = await this.lane.pollAcks(ids);
      const verdict = classifyResponse(res.status, res.body, res.retryAfter);
      if (verdict.kind === 'fatal') {
        const err = new HecError(verdict.code, `HEC ack poll refused: ${verdict.reason}`, {
          details: { url: this.lane.endpoint.url, status: res.status },
        });
        for (const [id, waiter] of this.pending) {
          this.pending.delete(id);
          waiter.resolve(err);
        }
      } else if (verdict.kind === 'ok') {
        const acks = (JSON.parse(res.body) as { acks?: Record<string, boolean> }).acks ?? {};
        for (const [id, done] of Object.entries(acks)) {
          const waiter = this.pending.get(Number(id));
          if (done && waiter) {
            this.pending.delete(Number(id));
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
