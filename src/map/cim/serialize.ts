import type { HecEvent } from './types.js';

/**
 * One envelope as the JSON HEC's /services/collector/event takes, on one line. The event is spliced in from
 * `eventJson` when the record's own text is known: for CloudTrail the envelope is mostly the record, and
 * serialising the parsed record again was the largest single cost of shipping it. Without `indexedFields`
 * the CIM fields are left out (`sinks.hec.indexedFields: false`).
 */
export function hecEventJson(ev: HecEvent, indexedFields = true): string {
  const [head, event, tail] = hecEventParts(ev, indexedFields);
  return head + event + tail;
}

/**
 * The same JSON in the three pieces it is made of (head, event, fields and close), for a writer that
 * encodes them where they go without joining them first: the event piece is the record's own text.
 */
export function hecEventParts(ev: HecEvent, indexedFields = true): [string, string, string] {
  let head = ev.time === undefined ? '{' : `{"time":${JSON.stringify(ev.time)},`;
  if (ev.host !== undefined) head += `"host":${JSON.stringify(ev.host)},`;
  head += `"source":${JSON.stringify(ev.source)},"sourcetype":${JSON.stringify(ev.sourcetype)}`;
  if (ev.index !== undefined) head += `,"index":${JSON.stringify(ev.index)}`;
  head += ',"event":';
  const event = ev.eventJson ?? JSON.stringify(ev.event);
  return [head, event, indexedFields ? `,"fields":${JSON.stringify(ev.fields)}}` : '}'];
}
