import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { detectLogType } from '../../../src/decode/index.js';
import { generateCloudTrailRecords, generateFlowLines } from '../../../src/samples/index.js';
import { decodeAll, records, rejects } from './helpers.js';

/** A CloudWatch Logs subscription envelope, as Firehose writes one per record. */
function envelope(messages: string[], logGroup = 'trail'): string {
  return JSON.stringify({
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup,
    logStream: 'stream',
    subscriptionFilters: ['to-firehose'],
    logEvents: messages.map((message, i) => ({ id: String(i), timestamp: 1_795_860_000_000, message })),
  });
}

const control = JSON.stringify({
  messageType: 'CONTROL_MESSAGE',
  owner: 'CloudwatchLogs',
  logGroup: '',
  logStream: '',
  subscriptionFilters: [],
  logEvents: [
    {
      id: '',
      timestamp: 1_795_860_000_000,
      message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.',
    },
  ],
});

// Firehose keys say nothing of the log (e.g. firehose/2026/11/28/10/stream-1-…); the content does.
const FIREHOSE_KEY = { key: 'firehose/2026/11/28/10/to-s3-1-2026-11-28-10-00-00-abcdef' };

describe('CloudWatch Logs subscription data (the Firehose route)', () => {
  it('yields each CloudTrail record of each envelope in order, from gzip members written one after another', async () => {
    const trail = generateCloudTrailRecords({ seed: 5, count: 5 }).map((r) => JSON.stringify(r));
    // Firehose keeps each subscription record gzipped as CloudWatch Logs sent it: one gzip member each.
    const body = Buffer.concat([
      gzipSync(envelope(trail.slice(0, 2))),
      gzipSync(control),
      gzipSync(envelope(trail.slice(2))),
    ]);
    const results = await decodeAll(body, { origin: FIREHOSE_KEY, logType: 'auto', chunkSize: 64 });
    const got = records(results);
    expect(rejects(results)).toEqual([]);
    expect(got.map((r) => r.origin.record)).toEqual([1, 2, 3, 4, 5]);
    expect(got.map((r) => (r.logType === 'cloudtrail' ? r.text : undefined))).toEqual(trail);
    expect(got.map((r) => (r.logType === 'cloudtrail' ? r.event.eventID : undefined))).toEqual(
      trail.map((t) => JSON.parse(t).eventID),
    );
  });

  it('yields flow lines, and a bad log event goes to the dead letter named while the rest still flow', async () => {
    const lines = generateFlowLines({ seed: 9, count: 4, header: false });
    const text = `${envelope([lines[0]!, '2 123456789012 eni-1 too few'], 'flows')}\n${envelope(lines.slice(1), 'flows')}\n`;
    expect(detectLogType(FIREHOSE_KEY.key, Buffer.from(text))).toBe('vpcflow');
    const results = await decodeAll(text, { origin: FIREHOSE_KEY, logType: 'auto' });
    const got = records(results);
    expect(got.map((r) => (r.logType === 'vpcflow' ? r.line : undefined))).toEqual(lines);
    expect(got.map((r) => r.origin.record)).toEqual([1, 3, 4, 5]);
    const [bad] = rejects(results);
    expect(bad).toMatchObject({ code: 'DECODE_FLOW_FIELD_COUNT', origin: { record: 2 } });
    expect(bad?.raw).toBe('2 123456789012 eni-1 too few');
  });

  it('names the log event of a message that is not a CloudTrail record, and an envelope that is not data', async () => {
    const good = JSON.stringify(generateCloudTrailRecords({ seed: 6, count: 1 })[0]);
    const text = [
      envelope([good, '{"eventVersion": "1.08", cut', '[1,2]']),
      JSON.stringify({ messageType: 'DATA_MESSAGE', logEvents: 'none' }),
    ].join('');
    const results = await decodeAll(text, { origin: FIREHOSE_KEY, logType: 'cloudtrail' });
    expect(records(results)).toHaveLength(1);
    expect(rejects(results).map((r) => [r.code, r.origin.record, r.reason.split(':')[0]])).toEqual([
      ['DECODE_INVALID_JSON', 2, 'log event 2'],
      ['DECODE_NOT_OBJECT', 3, 'log event 3'],
      ['DECODE_INVALID_JSON', 4, 'envelope 2'],
    ]);
  });

  it('tells CloudTrail from flow envelopes by the first data message', () => {
    expect(detectLogType('x', Buffer.from(envelope(['{"eventVersion":"1.08"}'])))).toBe('cloudtrail');
    // A health check first says nothing of the log.
    expect(detectLogType('x', Buffer.from(control + envelope(['{"eventVersion":"1.08"}'])))).toBe(
      'cloudtrail',
    );
    expect(detectLogType('x', Buffer.from(control))).toBeUndefined();
    expect(
      detectLogType('x', Buffer.from(envelope(['2 123456789012 eni-1 - - - - - - - 1 2 - NODATA']))),
    ).toBe('vpcflow');
  });
});
