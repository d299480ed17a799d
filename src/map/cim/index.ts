import type { RawRecord } from '../../types.js';
import { objectUrl } from '../object-url.js';
import { cloudTrailCimFields, cloudTrailTime } from './cloudtrail.js';
import { flowLineFor } from './flow-line.js';
import type { CimOptions, HecEvent } from './types.js';
import { vpcFlowCimFields } from './vpcflow.js';

export { CimMapError } from './errors.js';
export type { FlowLineOrder } from './flow-line.js';
export { hecEventJson, hecEventParts } from './serialize.js';
export type { CimFields, CimOptions, CimSourcetype, HecEvent } from './types.js';

export const CIM_SOURCETYPES = {
  cloudtrail: 'aws:cloudtrail',
  vpcflow: 'aws:cloudwatchlogs:vpcflow',
} as const;

/**
 * Maps one raw record to a HEC envelope: the original record under the Splunk Add-on for AWS sourcetype
 * (so an installed add-on maps it exactly as its own data; a flow line in an order the add-on cannot
 * read is sent in one it can, see flow-line.ts), plus CIM fields as indexed fields (so stacks
 * without the add-on still fill Authentication, Change and Network_Traffic). Pure; throws CimMapError.
 */
export function toCim(record: RawRecord, options: CimOptions = {}): HecEvent {
  const { origin } = record;
  const source = options.source ?? objectUrl(origin);
  let envelope: HecEvent;
  if (record.logType === 'cloudtrail') {
    envelope = {
      time: cloudTrailTime(record.event, origin),
      source,
      sourcetype: CIM_SOURCETYPES.cloudtrail,
      event: record.event,
      fields: cloudTrailCimFields(record.event, origin),
    };
    // A pretty-printed record would break the one-envelope-per-line form; it is serialised again instead.
    const text = record.text;
    if (text !== undefined && text.indexOf('\n') === -1 && text.indexOf('\r') === -1)
      envelope.eventJson = text;
  } else {
    const fields = vpcFlowCimFields(record.fields, origin);
    const event =
      options.flowLineOrder === 'as-written'
        ? record.line
        : flowLineFor(record.layout ?? Object.keys(record.fields), record.fields, record.line);
    envelope = { source, sourcetype: CIM_SOURCETYPES.vpcflow, event, fields };
    // The flow's end, or its start when the end is absent, as read (and checked) for the fields. Neither
    // in Elastic's 6- and 17-token layouts: HEC then stamps the event with the time it receives it.
    const time = fields.end_time ?? fields.start_time;
    if (typeof time === 'string') envelope.time = Number(time);
  }
  if (options.host !== undefined) envelope.host = options.host;
  if (options.index !== undefined) envelope.index = options.index;
  return envelope;
}
