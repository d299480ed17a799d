/** Samples the process's resident set size; `peakRss` is the largest seen since construction. */
export class MemorySampler {
  #peakRss = process.memoryUsage.rss();
  readonly #timer: NodeJS.Timeout;

  constructor(everyMs = 20) {
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): void {
    this.#peakRss = Math.max(this.#peakRss, process.memoryUsage.rss());
  }

  get peakRss(): number {
    return this.#peakRss;
  }

  stop(): void {
    this.sample();
    clearInterval(this.#timer);
  }
}
