/**
 * Opens after `threshold` consecutive failures and refuses everything for `openMs`; then lets one call
 * through (half-open), whose success closes it again and whose failure opens it for another period.
 */
export class CircuitBreaker {
  readonly #threshold: number;
  readonly #openMs: number;
  #failures = 0;
  #openUntil = 0;

  constructor(threshold: number, openMs: number) {
    this.#threshold = threshold;
    this.#openMs = openMs;
  }

  /** Epoch ms until which calls are refused, or undefined when closed / half-open. */
  openUntil(now: number): number | undefined {
    return this.#openUntil > now ? this.#openUntil : undefined;
  }

  success(): void {
    this.#failures = 0;
    this.#openUntil = 0;
  }

  failure(now: number): void {
    this.#failures += 1;
    if (this.#failures >= this.#threshold) this.#openUntil = now + this.#openMs;
  }
}
