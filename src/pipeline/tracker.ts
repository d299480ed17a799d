import type { Delivery, RecordOrigin } from '../types.js';
import type { DeadLetter } from './dead-letter.js';

export interface ObjectOutcome {
  /** delivered: every record settled (acked or dead-lettered); failed: something must be retried. */
  status: 'delivered' | 'failed';
  records: number;
  deadLettered: number;
  /** The first few errors with distinct messages (at most KEPT_ERRORS): why the object failed. */
  errors: Error[];
  /**
   * Every failure, kept or not: deliveries a sink gave up on (one per record and sink), dead-letter entries
   * that could not be written, and faults of the object itself (a read error, a truncated stream).
   */
  failures: number;
}

/**
 * Errors kept per object. A sink that is down or refuses the credentials fails every record of every
 * object in flight; one error kept per record would hold hundreds of thousands of them until the object
 * ends, exactly when the connector should stay small. A count and a few examples say as much.
 */
export const KEPT_ERRORS = 3;

/** How a record ended at one sink; the `outcome` label of asc_sink_records_total. */
export type DeliveryOutcome = 'acked' | 'rejected' | 'failed';

/**
 * Counts one object's outstanding deliveries (records × sinks). The object is done when decoding has
 * finished (`seal`) and every delivery has settled; that is the only signal the source acts on.
 */
export class ObjectTracker {
  readonly #deadLetter: DeadLetter;
  readonly #onSettle: ((sink: string, outcome: DeliveryOutcome) => void) | undefined;
  readonly #onDeadLettered: ((code: string) => void) | undefined;
  #pending = 0;
  #sealed = false;
  #records = 0;
  #deadLettered = 0;
  readonly #errors: Error[] = [];
  #failures = 0;
  readonly #done: Promise<ObjectOutcome>;
  #resolve!: (outcome: ObjectOutcome) => void;

  /**
   * `onDeadLettered` is called once per entry the dead letter has stored, with its code: every record that
   * reaches the dead letter passes through here (decode, map and sink rejections alike), and only a stored
   * entry is a dead letter; one whose write failed is retried with its object.
   */
  constructor(
    deadLetter: DeadLetter,
    onSettle?: (sink: string, outcome: DeliveryOutcome) => void,
    onDeadLettered?: (code: string) => void,
  ) {
    this.#deadLetter = deadLetter;
    this.#onSettle = onSettle;
    this.#onDeadLettered = onDeadLettered;
    this.#done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  countRecord(): void {
    this.#records++;
  }

  /** A delivery token for one record at one sink. Settling it twice is ignored. */
  delivery(sink: string, origin: RecordOrigin): Delivery {
    this.#pending++;
    return new RecordDelivery(this, sink, origin);
  }

  /** Called once per delivery token, by the token. */
  settle(sink: string, outcome: DeliveryOutcome, origin: RecordOrigin, detail: SettleDetail): void {
    this.#onSettle?.(sink, outcome);
    if (outcome === 'acked') {
      this.#release();
    } else if (outcome === 'failed') {
      this.#failed(detail.error!);
      this.#release();
    } else {
      this.#deadLetterAndRelease({
        code: detail.code!,
        reason: detail.reason!,
        origin,
        sink,
        ...(detail.sent === undefined ? {} : { raw: detail.sent }),
      });
    }
  }

  /** A record that never reached a sink (decode or map failure). */
  reject(entry: Parameters<DeadLetter['write']>[0]): void {
    this.#pending++;
    this.#deadLetterAndRelease(entry);
  }

  /** The object cannot be finished now (read error, truncated stream): leave its message for redelivery. */
  fail(error: Error): void {
    this.#failed(error);
  }

  seal(): Promise<ObjectOutcome> {
    this.#sealed = true;
    this.#check();
    return this.#done;
  }

  #deadLetterAndRelease(entry: Parameters<DeadLetter['write']>[0]): void {
    // Only the code is needed afterwards: keeping `entry` in the callbacks would hold its raw text (up to a
    // whole record) until the write is done, on top of the line the dead letter holds and counts.
    const { code } = entry;
    this.#deadLetter.write(entry).then(
      () => {
        this.#deadLettered++;
        this.#onDeadLettered?.(code);
        this.#release();
      },
      (err: unknown) => {
        this.#failed(err instanceof Error ? err : new Error(String(err)));
        this.#release();
      },
    );
  }

  #failed(error: Error): void {
    this.#failures++;
    if (this.#errors.length >= KEPT_ERRORS) return;
    // Sinks share one error among the records of a batch: the same reason is not kept twice.
    if (this.#errors.some((kept) => kept === error || kept.message === error.message)) return;
    this.#errors.push(error);
  }

  #release(): void {
    this.#pending--;
    this.#check();
  }

  #check(): void {
    if (!this.#sealed || this.#pending > 0) return;
    this.#resolve({
      status: this.#failures === 0 ? 'delivered' : 'failed',
      records: this.#records,
      deadLettered: this.#deadLettered,
      errors: this.#errors,
      failures: this.#failures,
    });
  }
}

interface SettleDetail {
  reason?: string;
  code?: string;
  sent?: string;
  error?: Error;
}

/**
 * One record at one sink. A class rather than closures: one is made per record and sink on the hot
 * path, and a small object with shared methods is cheaper to build and to collect than four closures.
 */
class RecordDelivery implements Delivery {
  #settled = false;

  constructor(
    private readonly tracker: ObjectTracker,
    private readonly sink: string,
    private readonly origin: RecordOrigin,
  ) {}

  ack(): void {
    if (this.#first()) this.tracker.settle(this.sink, 'acked', this.origin, {});
  }

  reject(reason: string, code: string, sent?: string): void {
    if (this.#first()) this.tracker.settle(this.sink, 'rejected', this.origin, { reason, code, sent });
  }

  fail(error: Error): void {
    if (this.#first()) this.tracker.settle(this.sink, 'failed', this.origin, { error });
  }

  #first(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    return true;
  }
}
