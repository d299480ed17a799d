/** setTimeout's ceiling: past it Node fires at once (after 1 ms) instead of waiting longer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `work`'s value, or `timedOut` once `ms` have passed without it; rejects if `work` rejects first. The
 * caller tells which won by the value, so `timedOut` must be one `work` never resolves with.
 *
 * The timer is cleared as soon as the race is decided, so a guard that was not needed does not keep the
 * process alive. `unref` also lets the process exit while the race is still on (for guards that must not
 * hold up an exit themselves). `work` is not stopped when it loses: that is for the caller to do (an
 * abort signal, a forced exit). `ms` is bounded to what setTimeout can wait, so `Infinity` means as long
 * as it can rather than not at all.
 */
export async function withTimeout<T, U>(
  work: Promise<T>,
  ms: number,
  timedOut: U,
  options: { unref?: boolean } = {},
): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<U>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), Math.max(0, Math.min(ms, MAX_TIMER_MS)));
    if (options.unref) timer.unref();
  });
  try {
    return await Promise.race([work, timeUp]);
  } finally {
    clearTimeout(timer);
  }
}
