import type { RawRecord } from '../../types.js';
import { objectUrl } from '../object-url.js';
import { cloudTrailCimFields, cloudTrailTime } from './cloudtrail.js';
import type { CimOptions, HecEvent } from './types.js';
import { vpcFlowCimFields, vpcFlowTime } from './vpcflow.js';

export { CimMapError } from './errors.js';
export { hecEventJson } from './serialize.js';
export type { CimFields, CimOptions, CimSourcetype, HecEvent } from './types.js';

export const CIM_SOURCETYPES = {
  cloudtrail: 'aws:cloudtrail',
  vpcflow: 'aws:cloudwatchlogs:vpcflow',
} as const;

/**
 * Maps one raw record to a HEC envelope: the original record under the Splunk Add-on for AWS sourcetype
 * (so an installed add-on maps it exactly as its own data), plus CIM fields as indexed fields (so stacks
 * without the add-on still fill Authentication, Change and Network_Traffic). Pure; throws CimMapError.
 */
export function toCim(record: RawRecord, options: CimOptions = {}): HecEvent {
  const { origin } = record;
  const source = options.source ?? objectUrl(origin);
  const base = {
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.index === undefined ? {} : { index: options.index }),
  };
  if (record.logType === 'cloudtrail') {
    const envelope: HecEvent = {
      time: cloudTrailTime(record.event, origin),
      ...base,
      source,
      sourcetype: CIM_SOURCETYPES.cloudtrail,
      event: record.event,
      fields: cloudTrailCimFields(record.event, origin),
    };
    // A pretty-printed record would break the one-envelope-per-line form; it is serialised again instead.
    const text = record.text;
    if (text !== undefined && text.indexOf('\n') === -1 && text.indexOf('\r') === -1)
      envelope.eventJson = text;
    return envelope;
  }
  return {
    time: vpcFlowTime(record.fields, origin),
    ...base,
    source,
    sourcetype: CIM_SOURCETYPES.vpcflow,
    event: record.line,
    fields: vpcFlowCimFields(record.fields, origin),
  };
}
