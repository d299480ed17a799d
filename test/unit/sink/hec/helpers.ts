import { Writable } from 'node:stream';
import type { HecEvent } from '../../../../src/map/cim/index.js';
import { createLogger, type Logger } from '../../../../src/observe/index.js';
import {
  type HecSinkConfig,
  type HecSinkConfigInput,
  hecSinkConfigSchema,
} from '../../../../src/sink/hec/index.js';
import type { SinkRecord } from '../../../../src/types.js';

export interface Outcome {
  kind: 'ack' | 'reject' | 'fail';
  reason?: string;
  code?: string;
  error?: Error;
}

export interface Tracked {
  record: SinkRecord<HecEvent>;
  outcomes: Outcome[];
}

/** Retry and health-check timings short enough for unit tests. */
export const fast = { retry: { initialDelayMs: 5, maxDelayMs: 50 }, healthCheckIntervalMs: 20 };

export function hecConfig(input: Partial<HecSinkConfigInput> & { urls: string[] }): HecSinkConfig {
  return hecSinkConfigSchema.parse({ token: 'unit-token-123', ...input });
}

export function event(n: number, extra: Partial<HecEvent> = {}): HecEvent {
  return {
    time: 1_700_000_000 + n,
    source: 's3://bucket/obj.json.gz',
    sourcetype: 'aws:cloudtrail',
    event: { eventID: `id-${n}`, n },
    fields: { n: String(n) },
    ...extra,
  };
}

export function tracked(n: number, doc: HecEvent = event(n)): Tracked {
  const outcomes: Outcome[] = [];
  const record: SinkRecord<HecEvent> = {
    id: `id-${n}`,
    logType: 'cloudtrail',
    doc,
    origin: { bucket: 'bucket', key: 'obj.json.gz', record: n },
    delivery: {
      ack: () => outcomes.push({ kind: 'ack' }),
      reject: (reason, code) => outcomes.push({ kind: 'reject', reason, code }),
      fail: (error) => outcomes.push({ kind: 'fail', error }),
    },
  };
  return { record, outcomes };
}

/** A logger whose lines are kept for assertions (and checked for secrets). */
export function captureLogger(): { log: Logger; lines: () => Record<string, unknown>[]; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  const log = createLogger('debug', sink);
  const text = () => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
