import type { HecEvent } from './types.js';

/**
 * One envelope as the JSON HEC's /services/collector/event takes, on one line. The event is spliced in from
 * `eventJson` when the record's own text is known: for CloudTrail the envelope is mostly the record, and
 * serialising the parsed record again was the largest single cost of shipping it. Without `indexedFields`
 * the CIM fields are left out (`sinks.hec.indexedFields: false`).
 */
export function hecEventJson(ev: HecEvent, indexedFields = true): string {
  let json = ev.time === undefined ? '{' : `{"time":${JSON.stringify(ev.time)},`;
  if (ev.host !== undefined) json += `"host":${JSON.stringify(ev.host)},`;
  json += `"source":${JSON.stringify(ev.source)},"sourcetype":${JSON.stringify(ev.sourcetype)}`;
  if (ev.index !== undefined) json += `,"index":${JSON.stringify(ev.index)}`;
  json += `,"event":${ev.eventJson ?? JSON.stringify(ev.event)}`;
  return indexedFields ? `${json},"fields":${JSON.stringify(ev.fields)}}` : `${json}}`;
}
