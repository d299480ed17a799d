/**
 * The close bookkeeping the batching sinks share (HEC, search): when writes stop being taken, when the
 * sink's timers may stop keeping the process alive, and that close runs once. What a sink waits for
 * before it lets go (its buffer, its queue, its probes) and how it refuses a late write stay in the sink.
 */

/**
 * What write() returns when it is done at once (the record buffered, or settled on the spot): one
 * resolved promise shared by every such write, instead of a promise of its own per record.
 */
export const TAKEN: Promise<void> = Promise.resolve();

/** Promises of work not yet done; each leaves as it settles, so `size` counts only what is still running. */
export class InFlight {
  readonly #running = new Set<Promise<void>>();

  get size(): number {
    return this.#running.size;
  }

  /** Tracks `work`; returns the promise to hand on, which settles as `work` does, once it has left. */
  add(work: Promise<void>): Promise<void> {
    const tracked = work.finally(() => this.#running.delete(tracked));
    this.#running.add(tracked);
    return tracked;
  }

  /** Settles once everything running now has settled; never rejects. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#running]);
  }
}

export class SinkLifecycle {
  #closing = false;
  #closed: Promise<void> | undefined;
  /** close() has finished waiting: nothing of the sink may keep the process alive any more. */
  #released = false;
  readonly #pacing = new Set<NodeJS.Timeout>();

  /** close() was called: writes are refused from then on (how, is the sink's call). */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * A timer that paces the sink's work (a batch's age, a back-off, a wait). Not unref'd while the sink is
   * open: it is work in flight, and the process must not exit (replay, Lambda) while records wait on it.
   * Once close() has let go, it no longer keeps the process alive.
   */
  pace(callback: () => void, ms: number): NodeJS.Timeout {
    const handle = setTimeout(() => {
      this.#pacing.delete(handle);
      callback();
    }, ms);
    this.#pacing.add(handle);
    if (this.#released) handle.unref();
    return handle;
  }

  /** Cuts a paced wait short, so that no timer outlives the wait it paced. */
  unpace(handle: NodeJS.Timeout | undefined): void {
    if (!handle) return;
    clearTimeout(handle);
    this.#pacing.delete(handle);
  }

  /**
   * Refuses writes from this call on, waits for `drain` (everything taken before, delivered or settled),
   * then lets go: paced timers left, should there be any, stop keeping the process alive, and `release`
   * frees the connections. Every call returns the first call's promise.
   */
  close(drain: () => Promise<void>, release: () => Promise<void>): Promise<void> {
    this.#closing = true;
    this.#closed ??= (async () => {
      await drain();
      this.#released = true;
      for (const handle of this.#pacing) handle.unref();
      await release();
    })();
    return this.#closed;
  }
}
