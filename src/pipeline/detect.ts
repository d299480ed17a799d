import { existsSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DetectionConfig } from '../detection/config.js';
import type { Alert } from '../detection/index.js';
import { ConnectorError } from '../errors.js';
import type { Logger, Metrics } from '../observe/index.js';
import { WindowRateLimiter } from '../rate-limit.js';
import { appenderIn } from './append-in-dir.js';
import type { RecordObserver } from './process-object.js';

/** The rules that ship with the package, used when the configured relative directory is not there. */
const BUNDLED_RULES = fileURLToPath(new URL('../../rules/', import.meta.url));

export interface InStreamDetection {
  observe: RecordObserver;
  /**
   * Closes open correlation windows (end of a replay, shutdown) and writes their alerts. Resolves with the
   * number of alerts; rejects with AlertsWriteError when any alert could not be written to the file.
   */
  finish(): Promise<number>;
  readonly alerts: number;
}

/**
 * Runs the detection rules over every record in the stream. Alerts are appended as NDJSON to
 * `alertsFile` and logged; the SIEM's own rules stay the system of record, this catches things before
 * the SIEM has indexed them and works where no SIEM runs yet.
 *
 * The rules read the records as decoded, by the names their Sigma fields use (CloudTrail's JSON paths, the
 * flow log's fields), not the ECS documents: a pipeline that only ships to HEC then makes no ECS document
 * at all, and the rules need no translation. Both give the same alerts (a test holds them side by side).
 */
export async function createInStreamDetection(
  config: DetectionConfig,
  deps: { log: Logger; metrics: Metrics; alertsFile: string },
): Promise<InStreamDetection | undefined> {
  if (!config.enabled) return undefined;
  const dir = existsSync(config.rulesDir) || isAbsolute(config.rulesDir) ? config.rulesDir : BUNDLED_RULES;
  const { createEvaluator, loadRules, rawDocument } = await import('../detection/index.js');
  const rules = await loadRules(dir);
  const evaluator = createEvaluator(rules, {
    fields: 'raw',
    maxGroups: config.maxGroups,
    maxWindowEvents: config.maxWindowEvents,
  });
  deps.log.info({ rules: rules.length, dir }, 'in-stream detection on');
  let count = 0;
  const file = alertsFileWriter(deps);
  const perSecond = config.alertLogLinesPerSecond;
  const lineLimit = perSecond
    ? new LogLineLimit(perSecond, (held) => {
        let total = 0;
        for (const n of held.values()) total += n;
        deps.log.warn(
          { alerts: total, rules: Object.fromEntries(held) },
          `detection fired ${total} more times than the ${perSecond} lines a second logged one by one (every alert is in the alerts file and asc_alerts_total)`,
        );
      })
    : undefined;

  const emit = (alerts: Alert[]) => {
    if (alerts.length === 0) return;
    count += alerts.length;
    for (const alert of alerts) {
      deps.metrics.alerts.inc({ rule: alert.rule.name });
      // While the file fails or its backlog is full, the log is the only record of an alert: each gets a line.
      if (lineLimit && file.keepingUp && !lineLimit.take(alert.rule.name)) continue;
      deps.log.warn(
        { rule: alert.rule.name, level: alert.rule.level, events: alert.source_event_ids.length },
        'detection fired',
      );
    }
    file.append(alerts);
  };

  return {
    observe: (record, id) => emit(evaluator.evaluate(rawDocument(record), id, record.logType)),
    async finish() {
      emit(evaluator.flush());
      lineLimit?.flush();
      await file.drain();
      return count;
    },
    get alerts() {
      return count;
    },
  };
}

/** Alerts that could not be written to the alerts file; `finish()` rejects with it. */
export class AlertsWriteError extends ConnectorError {
  constructor(alertsFile: string, lost: number, cause: Error) {
    super(
      'DETECTION_ALERTS_UNWRITTEN',
      `${lost} alert(s) could not be written to ${alertsFile}: ${cause.message}`,
      {
        cause,
        details: { alertsFile, lost, errno: (cause as NodeJS.ErrnoException).code },
      },
    );
  }
}

/**
 * Alert text held at most while the alerts file takes a write: a hung disk or NFS mount must not make it
 * grow with every alert. Alerts past it are counted and logged as lost, as for a failed write (they are
 * in the "detection fired" log lines). Some 13,000 alerts of the usual 300-odd bytes.
 */
export const MAX_PENDING_ALERT_BYTES = 4 * 1024 * 1024;

/** The error alerts past MAX_PENDING_ALERT_BYTES are lost with. */
function backlogFull(): NodeJS.ErrnoException {
  return Object.assign(
    new Error(
      `the alerts file has not finished the write in progress and ${MAX_PENDING_ALERT_BYTES} bytes of alerts already wait for it`,
    ),
    { code: 'ALERTS_BACKLOG_FULL' },
  );
}

/**
 * Appends alert batches to the alerts file in order. The file is an optional output: a write that fails
 * (read-only root filesystem, a directory in its place, a full disk) must not take the consumer down, so
 * every failure is caught here, counted, logged once per distinct error (an alert storm against a full
 * disk would otherwise flood the log), and the chain goes on so later alerts are still tried. The alerts
 * are logged as they fire either way; `drain()` rejects when any were lost, so the caller can say so.
 */
function alertsFileWriter(deps: { log: Logger; metrics: Metrics; alertsFile: string }) {
  const alertsDir = appenderIn(dirname(deps.alertsFile));
  let lost = 0;
  let lastError: Error | undefined;
  /** Whether the latest attempt (an append, or making the directory at start) failed. */
  let failing = false;
  const reported = new Set<string>();

  const failed = (err: unknown, alerts: number): void => {
    failing = true;
    const error = err instanceof Error ? err : new Error(String(err));
    const code = (error as NodeJS.ErrnoException).code ?? 'UNKNOWN';
    if (alerts > 0) {
      lost += alerts;
      lastError = error;
      deps.metrics.alertWriteFailures.inc({ code }, alerts);
    }
    const key = `${code}:${error.message}`;
    if (reported.has(key)) return;
    reported.add(key);
    deps.log.error(
      { alertsFile: deps.alertsFile, code, err: error.message },
      'the alerts file cannot be written: alerts fired meanwhile are only in the "detection fired" log lines (reported once per distinct error)',
    );
  };

  // Tried at start-up so that an unwritable location is reported before the first alert needs it.
  const started = alertsDir.ensureDir().catch((err: unknown) => failed(err, 0));

  /** The append of the latest alert batch, failures handled: appends settle in order, so it is the last. */
  let latest: Promise<void> = Promise.resolve();

  return {
    append(alerts: Alert[]): void {
      let text = '';
      let bytes = 0;
      let taken = 0;
      let lostHere = 0;
      for (const alert of alerts) {
        const waiting = alertsDir.waitingBytes + bytes;
        // Past the cap an alert is not even serialised: a storm against a hung disk costs little.
        if (waiting >= MAX_PENDING_ALERT_BYTES) {
          lostHere++;
          continue;
        }
        const line = `${JSON.stringify(alert)}\n`;
        const lineBytes = Buffer.byteLength(line);
        // An alert alone always waits, however large: on a disk that keeps up, nothing is lost.
        if (waiting > 0 && waiting + lineBytes > MAX_PENDING_ALERT_BYTES) {
          lostHere++;
          continue;
        }
        text += line;
        bytes += lineBytes;
        taken++;
      }
      if (lostHere > 0) failed(backlogFull(), lostHere);
      if (taken === 0) return;
      // Alerts fired while a write is in progress wait and go out together in the next one; the
      // directory is made again after a failure, or when it went away: alerts do not stop for good.
      latest = alertsDir.append(deps.alertsFile, text).then(
        () => {
          failing = false;
        },
        (err: unknown) => failed(err, taken),
      );
    },
    /** Whether the latest append went through and the backlog has room: alerts are not being lost. */
    get keepingUp(): boolean {
      return !failing && alertsDir.waitingBytes < MAX_PENDING_ALERT_BYTES;
    },
    async drain(): Promise<void> {
      let seen: Promise<void>;
      do {
        seen = latest;
        await seen;
      } while (seen !== latest);
      await started;
      if (lastError) throw new AlertsWriteError(deps.alertsFile, lost, lastError);
    },
  };
}

/**
 * Log lines for a stream of events of several kinds, at most `perSecond` in any second. What it holds back
 * is counted per kind and handed to `report` one second after the first of them (or at `flush()`).
 */
class LogLineLimit {
  readonly #lines: WindowRateLimiter;
  #held = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(
    perSecond: number,
    private readonly report: (held: Map<string, number>) => void,
  ) {
    this.#lines = new WindowRateLimiter(perSecond, 1000);
  }

  /** Whether an event of `kind` may have its own line; if not, it is counted for the next report. */
  take(kind: string): boolean {
    if (this.#lines.tryTake(Date.now())) return true;
    this.#held.set(kind, (this.#held.get(kind) ?? 0) + 1);
    // Unreferenced: a report still due never keeps a finished process alive (finish() flushes it).
    this.#timer ??= setTimeout(() => this.flush(), 1000).unref();
    return false;
  }

  /** Reports what is held back, now. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#held.size === 0) return;
    const held = this.#held;
    this.#held = new Map();
    this.report(held);
  }
}
