import type { LogType } from '../types.js';
import { DECODE_CODES, type DecodeLimits, MAX_RAW_KEPT } from './codes.js';
import { JsonRecordSplitter, type SplitEvent } from './json-splitter.js';
import type { FlowLayouts } from './tables.js';
import { type FlowEvent, FlowLineDecoder } from './vpcflow.js';

/**
 * CloudWatch Logs subscription data as Kinesis Data Firehose writes it to S3: the route of trails and flow
 * logs sent to CloudWatch Logs. An object is a run of envelopes (concatenated or one per line),
 * `{"messageType":"DATA_MESSAGE","logGroup":…,"logEvents":[{"id","timestamp","message"},…]}`, each log
 * event's message one CloudTrail record (its JSON text) or one flow line; CONTROL_MESSAGE envelopes are
 * the destination's health checks and carry no data.
 */
const ENVELOPE_HEAD = /^\{\s*"messageType"\s*:/;
/** The first message's opening: an escaped JSON object is a CloudTrail record, anything else a flow line. */
const FIRST_MESSAGE = /"message"\s*:\s*"(.)/;

export function isLogEventsStream(head: string): boolean {
  return ENVELOPE_HEAD.test(head);
}

/**
 * Which log the envelopes carry, read off the first data message in `head` (a health check may come
 * first); undefined if none is there.
 */
export function logTypeOfLogEvents(head: string): LogType | undefined {
  const data = head.indexOf('"DATA_MESSAGE"');
  if (data === -1) return undefined;
  const first = FIRST_MESSAGE.exec(head.slice(data))?.[1];
  if (first === undefined) return undefined;
  return first === '{' ? 'cloudtrail' : 'vpcflow';
}

/** One log event's outcome; `index` is its 1-based position among the object's log events. */
export type LogEvent =
  | { kind: 'cloudtrail'; index: number; value: Record<string, unknown>; text: string }
  | { kind: 'flow'; event: FlowEvent }
  | { kind: 'error'; index: number; code: string; reason: string; raw?: string };

/** Splits the envelopes (as the CloudTrail splitter splits records) and hands on each log event's message. */
export class LogEventsDecoder {
  private readonly envelopes: JsonRecordSplitter;
  private readonly lines: FlowLineDecoder | undefined;
  /** Log events seen so far: the position of the next one is this plus one. */
  private seen = 0;

  constructor(logType: LogType, limits: DecodeLimits, layouts?: FlowLayouts) {
    this.envelopes = new JsonRecordSplitter(limits);
    this.lines = logType === 'vpcflow' ? new FlowLineDecoder(limits, layouts) : undefined;
  }

  push(chunk: Uint8Array): LogEvent[] {
    return this.expand(this.envelopes.push(chunk));
  }

  end(truncated?: { code: string; reason: string }): LogEvent[] {
    return this.expand(this.envelopes.end(truncated));
  }

  private expand(split: SplitEvent[]): LogEvent[] {
    const out: LogEvent[] = [];
    for (const e of split) {
      if (e.kind === 'digest') continue;
      if (e.kind === 'error') {
        out.push({ ...e, index: this.seen + 1, reason: `envelope ${e.index}: ${e.reason}` });
        continue;
      }
      const envelope = e.value;
      if (envelope.messageType === 'CONTROL_MESSAGE') continue;
      const events = envelope.logEvents;
      if (envelope.messageType !== 'DATA_MESSAGE' || !Array.isArray(events)) {
        out.push({
          kind: 'error',
          index: this.seen + 1,
          code: DECODE_CODES.invalidJson,
          reason: `envelope ${e.index}: not CloudWatch Logs subscription data (a DATA_MESSAGE with a logEvents array)`,
          raw: e.text.slice(0, MAX_RAW_KEPT),
        });
        continue;
      }
      for (const logEvent of events) this.message(logEvent, out);
    }
    return out;
  }

  private message(logEvent: unknown, out: LogEvent[]): void {
    const index = ++this.seen;
    const message = (logEvent as { message?: unknown } | null)?.message;
    if (typeof message !== 'string') {
      out.push({
        kind: 'error',
        index,
        code: DECODE_CODES.invalidJson,
        reason: `log event ${index}: has no string "message"`,
        raw: JSON.stringify(logEvent)?.slice(0, MAX_RAW_KEPT),
      });
      return;
    }
    if (this.lines) {
      // Flow messages are single lines; the line decoder numbers them as it counts them, in step with `seen`.
      for (const event of this.lines.pushLine(message)) out.push({ kind: 'flow', event });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(message);
    } catch (err) {
      out.push({
        kind: 'error',
        index,
        code: DECODE_CODES.invalidJson,
        reason: `log event ${index}: ${(err as Error).message}`,
        raw: message.slice(0, MAX_RAW_KEPT),
      });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      out.push({
        kind: 'error',
        index,
        code: DECODE_CODES.notObject,
        reason: `log event ${index}: a CloudTrail record must be a JSON object`,
        raw: message.slice(0, MAX_RAW_KEPT),
      });
      return;
    }
    out.push({ kind: 'cloudtrail', index, value: value as Record<string, unknown>, text: message });
  }
}
