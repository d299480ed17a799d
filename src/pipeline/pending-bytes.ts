/**
 * Bytes taken and not yet released, against a bound. Whoever can pause asks `whenRoom()` before taking
 * more; whoever cannot (a sink settling a batch it already sent) adds its bytes anyway, so the bound is
 * where producers stop, not a hard cap on what is held.
 */
export class PendingBytes {
  readonly max: number;
  #bytes = 0;
  #waiters: Array<() => void> = [];

  constructor(max: number) {
    this.max = max;
  }

  get bytes(): number {
    return this.#bytes;
  }

  add(bytes: number): void {
    this.#bytes += bytes;
  }

  release(bytes: number): void {
    this.#bytes -= bytes;
    if (this.#bytes > this.max || this.#waiters.length === 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Undefined while at most `max` bytes are held (the usual case, so a hot loop awaits nothing);
   * otherwise a promise that resolves once they are back within it.
   */
  whenRoom(): Promise<void> | undefined {
    if (this.#bytes <= this.max) return undefined;
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}
