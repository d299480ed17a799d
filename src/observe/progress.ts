/** What a progress line shows; `total*` may be unknown (0). */
export interface ProgressState {
  done: number;
  total: number;
  unit: string;
  bytes: number;
  totalBytes: number;
  extra?: string;
  startedAt: number;
}

/**
 * One progress line on stderr: redrawn in place on a terminal, a plain line every few seconds
 * otherwise (CI logs, files), so that logs stay readable.
 */
export function createProgress(stream: NodeJS.WriteStream = process.stderr, plainEveryMs = 5000) {
  const tty = stream.isTTY === true;
  let lastPlain = 0;
  let lastDraw = 0;
  return {
    update(state: ProgressState, force = false): void {
      const now = Date.now();
      if (tty) {
        if (!force && now - lastDraw < 100) return;
        lastDraw = now;
        stream.write(`\r\x1b[2K${formatProgress(state, now, true)}`);
      } else if (force || now - lastPlain >= plainEveryMs) {
        lastPlain = now;
        stream.write(`${formatProgress(state, now, false)}\n`);
      }
    },
    finish(state: ProgressState): void {
      if (tty) stream.write(`\r\x1b[2K${formatProgress(state, Date.now(), true)}\n`);
      else stream.write(`${formatProgress(state, Date.now(), false)}\n`);
    },
  };
}

export function formatProgress(state: ProgressState, now: number, bar: boolean): string {
  const seconds = Math.max((now - state.startedAt) / 1000, 0.001);
  const rate = state.bytes / seconds;
  const fraction =
    state.totalBytes > 0 ? state.bytes / state.totalBytes : state.total > 0 ? state.done / state.total : 0;
  const eta = fraction > 0 && fraction < 1 ? (seconds / fraction) * (1 - fraction) : 0;
  const width = 24;
  const filled = Math.round(Math.min(1, fraction) * width);
  const parts = [
    bar ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]` : `${Math.round(fraction * 100)}%`,
    `${state.done}/${state.total || '?'} ${state.unit}`,
    formatBytes(state.bytes),
    `${formatBytes(rate)}/s`,
  ];
  if (state.extra) parts.push(state.extra);
  if (eta > 0) parts.push(`ETA ${Math.ceil(eta)}s`);
  return parts.join(' · ');
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
