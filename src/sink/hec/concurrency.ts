/**
 * How many requests the HEC sink may have in flight. Pure: no timers, no I/O; the clock is injected, and
 * the sink reports each request start and each response.
 */
export interface ConcurrencyLimit {
  /** Requests that may be in flight now. */
  readonly limit: number;
  /** A request is starting; `inFlight` counts it. */
  onRequest(inFlight: number): void;
  onResponse(sample: ResponseSample): void;
}

export interface ResponseSample {
  /** Time from sending the request to its answer (or to its failure). */
  rttMs: number;
  /** The receiver pushed back: a busy, throttled or unhealthy reply, a network error or a time-out. */
  overloaded: boolean;
}

/** A limit that never moves: the operator chose the concurrency. */
export class FixedConcurrency implements ConcurrencyLimit {
  constructor(readonly limit: number) {}
  onRequest(): void {}
  onResponse(): void {}
}

export interface AdaptiveConcurrencyOptions {
  /** Limit at start, before anything is known about the receiver. */
  initial: number;
  /** Ceiling; the floor is always 1. */
  max: number;
  /** Factor applied to the limit when the receiver pushes back (rounded down). */
  decreaseRatio: number;
  /** Standard deviations above the moving average RTT that a window's RTT may rise before it reads as queueing. */
  rttDeviationThreshold: number;
  /** Milliseconds, monotonic. */
  now?: () => number;
}

/** Weight of the newest window in the moving average and variance of the RTT. */
const RTT_EWMA_ALPHA = 0.4;
/**
 * A rise must also be at least this fraction of the average: a receiver with steady latency has almost no
 * variance, and without a floor the jitter of an event loop would read as queueing.
 */
const MIN_RTT_RISE = 0.1;

interface Window {
  endsAt: number | undefined;
  rttSum: number;
  rttCount: number;
  overloaded: boolean;
  /** In-flight requests reached the limit: there is evidence that more would be used. */
  reachedLimit: boolean;
}

/**
 * Additive-increase / multiplicative-decrease request concurrency, after Vector's adaptive request
 * concurrency. Time is cut into windows one average RTT long; at the end of each window the limit
 *  - grows by one when the window was limited by it (in-flight reached the limit), nothing pushed back and
 *    the window's mean RTT was not above the moving average;
 *  - else shrinks by `decreaseRatio` when something pushed back or the mean RTT rose clearly above the
 *    moving average (requests queue at the receiver before it starts refusing them).
 * Deciding once per window keeps a burst of refusals from cutting the limit once per refused request.
 */
export class AdaptiveConcurrency implements ConcurrencyLimit {
  #limit: number;
  #rtt: { mean: number; variance: number } | undefined;
  #window: Window = { endsAt: undefined, rttSum: 0, rttCount: 0, overloaded: false, reachedLimit: false };
  readonly #options: Required<AdaptiveConcurrencyOptions>;

  constructor(options: AdaptiveConcurrencyOptions) {
    this.#options = { now: () => performance.now(), ...options };
    this.#limit = Math.max(1, Math.min(options.initial, options.max));
  }

  get limit(): number {
    return this.#limit;
  }

  /** The moving average of the RTT in ms, once one window has been measured. */
  get averageRttMs(): number | undefined {
    return this.#rtt?.mean;
  }

  onRequest(inFlight: number): void {
    if (inFlight >= this.#limit) this.#window.reachedLimit = true;
  }

  onResponse(sample: ResponseSample): void {
    const now = this.#options.now();
    const window = this.#window;
    // A fast refusal says nothing about how long the receiver takes to index, and would drag the average down.
    if (sample.overloaded) window.overloaded = true;
    else {
      window.rttSum += sample.rttMs;
      window.rttCount++;
    }
    if (window.endsAt === undefined) {
      window.endsAt = now + (this.#rtt?.mean ?? sample.rttMs);
      return;
    }
    if (now < window.endsAt) return;
    const current = window.rttCount > 0 ? window.rttSum / window.rttCount : undefined;
    this.#adjust(window, current);
    if (current !== undefined) this.#rtt = ewma(this.#rtt, current);
    this.#window = {
      endsAt: now + (this.#rtt?.mean ?? sample.rttMs),
      rttSum: 0,
      rttCount: 0,
      overloaded: false,
      reachedLimit: false,
    };
  }

  /** `current` is the window's mean RTT, when any request in it was answered without push-back. */
  #adjust(window: Window, current: number | undefined): void {
    const { max, decreaseRatio, rttDeviationThreshold } = this.#options;
    const past = this.#rtt;
    const healthy = current !== undefined && (past === undefined || current <= past.mean);
    if (window.reachedLimit && !window.overloaded && healthy && this.#limit < max) {
      this.#limit++;
      return;
    }
    const tolerance = past
      ? Math.max(rttDeviationThreshold * Math.sqrt(past.variance), MIN_RTT_RISE * past.mean)
      : 0;
    const queueing = current !== undefined && past !== undefined && current > past.mean + tolerance;
    if ((window.overloaded || queueing) && this.#limit > 1) {
      this.#limit = Math.max(1, Math.floor(this.#limit * decreaseRatio));
    }
  }
}

/** Exponentially weighted mean and variance; the first sample starts both. */
function ewma(
  previous: { mean: number; variance: number } | undefined,
  sample: number,
): { mean: number; variance: number } {
  if (!previous) return { mean: sample, variance: 0 };
  const diff = sample - previous.mean;
  const step = RTT_EWMA_ALPHA * diff;
  return { mean: previous.mean + step, variance: (1 - RTT_EWMA_ALPHA) * (previous.variance + diff * step) };
}
