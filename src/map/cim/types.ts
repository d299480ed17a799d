import type { FlowLineOrder } from './flow-line.js';

export type CimSourcetype = 'aws:cloudtrail' | 'aws:cloudwatchlogs:vpcflow';

/**
 * Indexed fields: HEC refuses nested values (code 15) and documents strings and lists of strings as what
 * `fields` holds, so numbers (ports, bytes, times) go as their decimal text; Splunk compares them as
 * numbers at search time all the same.
 */
export type CimFields = Record<string, string | string[]>;

/** One envelope for HEC's /services/collector/event. */
export interface HecEvent {
  /**
   * Epoch seconds with a fraction. Absent for a flow layout without start and end: HEC then stamps the
   * event with the time it receives it, as Elastic's pipeline keeps the time it read the line.
   */
  time?: number;
  host?: string;
  /** `s3://bucket/key`, or the local path. */
  source: string;
  sourcetype: CimSourcetype;
  index?: string;
  /**
   * The original CloudTrail record, or the flow line (as written, or in an order the add-on reads), so the
   * Splunk Add-on for AWS maps it as its own data.
   */
  event: object | string;
  /**
   * `event` as JSON text when it is known already (the record's own bytes from the object): serialising
   * the envelope splices it in instead of stringifying `event` again. Never a key of the envelope.
   */
  eventJson?: string;
  fields: CimFields;
}

export interface CimOptions {
  host?: string;
  index?: string;
  /** Replaces the record's own source. */
  source?: string;
  /** Flow lines in an order the add-on reads (`addon`, the default) or exactly as AWS wrote them. */
  flowLineOrder?: FlowLineOrder;
}
