import type { Delivery, RecordOrigin } from '../types.js';
import type { DeadLetter } from './dead-letter.js';

export interface ObjectOutcome {
  /** delivered: every record settled (acked or dead-lettered); failed: something must be retried. */
  status: 'delivered' | 'failed';
  records: number;
  deadLettered: number;
  errors: Error[];
}

/** How a record ended at one sink; the `outcome` label of asc_sink_records_total. */
export type DeliveryOutcome = 'acked' | 'rejected' | 'failed';

/**
 * Counts one object's outstanding deliveries (records × sinks). The object is done when decoding has
 * finished (`seal`) and every delivery has settled; that is the only signal the source acts on.
 */
export class ObjectTracker {
  readonly #deadLetter: DeadLetter;
  readonly #onSettle: ((sink: string, outcome: DeliveryOutcome) => void) | undefined;
  #pending = 0;
  #sealed = false;
  #records = 0;
  #deadLettered = 0;
  readonly #errors: Error[] = [];
  readonly #done: Promise<ObjectOutcome>;
  #resolve!: (outcome: ObjectOutcome) => void;

  constructor(deadLetter: DeadLetter, onSettle?: (sink: string, outcome: DeliveryOutcome) => void) {
    this.#deadLetter = deadLetter;
    this.#onSettle = onSettle;
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
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      return true;
    };
    return {
      ack: () => {
        if (!settle()) return;
        this.#onSettle?.(sink, 'acked');
        this.#release();
      },
      reject: (reason, code, sent) => {
        if (!settle()) return;
        this.#onSettle?.(sink, 'rejected');
        this.#deadLetterAndRelease({
          code,
          reason,
          origin,
          sink,
          ...(sent === undefined ? {} : { raw: sent }),
        });
      },
      fail: (error) => {
        if (!settle()) return;
        this.#onSettle?.(sink, 'failed');
        this.#errors.push(error);
        this.#release();
      },
    };
  }

  /** A record that never reached a sink (decode or map failure). */
  reject(entry: Parameters<DeadLetter['write']>[0]): void {
    this.#pending++;
    this.#deadLetterAndRelease(entry);
  }

  /** The object cannot be finished now (read error, truncated stream): leave its message for redelivery. */
  fail(error: Error): void {
    this.#errors.push(error);
  }

  seal(): Promise<ObjectOutcome> {
    this.#sealed = true;
    this.#check();
    return this.#done;
  }

  #deadLetterAndRelease(entry: Parameters<DeadLetter['write']>[0]): void {
    this.#deadLetter.write(entry).then(
      () => {
        this.#deadLettered++;
        this.#release();
      },
      (err: unknown) => {
        this.#errors.push(err instanceof Error ? err : new Error(String(err)));
        this.#release();
      },
    );
  }

  #release(): void {
    this.#pending--;
    this.#check();
  }

  #check(): void {
    if (!this.#sealed || this.#pending > 0) return;
    this.#resolve({
      status: this.#errors.length === 0 ? 'delivered' : 'failed',
      records: this.#records,
      deadLettered: this.#deadLettered,
      errors: this.#errors,
    });
  }
}
