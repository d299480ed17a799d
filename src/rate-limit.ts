/** Sliding-window counter: at most `max` events per `windowMs`. */
export class WindowRateLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #events: number[] = [];

  constructor(max: number, windowMs: number) {
    this.#max = max;
    this.#windowMs = windowMs;
  }

  /** Takes a slot if one is free at `now`. */
  tryTake(now: number): boolean {
    while (this.#events.length > 0 && this.#events[0]! <= now - this.#windowMs) this.#events.shift();
    if (this.#events.length >= this.#max) return false;
    this.#events.push(now);
    return true;
  }
}
