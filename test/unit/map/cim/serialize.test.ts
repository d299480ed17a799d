import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeObject } from '../../../../src/decode/index.js';
import { hecEventJson, toCim } from '../../../../src/map/cim/index.js';
import type { RawRecord } from '../../../../src/types.js';

const record = {
  eventVersion: '1.08',
  eventTime: '2024-03-01T10:20:30.250Z',
  eventSource: 'iam.amazonaws.com',
  eventName: 'CreateUser',
  awsRegion: 'us-east-1',
  sourceIPAddress: '198.51.100.7',
  userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'alice' },
  requestParameters: { userName: 'bob\u00e9 "quoted" \\ slash/' },
  eventID: 'e-1',
};

async function decodedRecords(text: string): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  for await (const r of decodeObject(Readable.from([Buffer.from(text)]), {
    origin: { bucket: 'b', key: 'AWSLogs/1/CloudTrail/x.json' },
    logType: 'cloudtrail',
  })) {
    if (r.kind === 'record') out.push(r.record);
  }
  return out;
}

/** What the envelope means, whatever way it was written. */
function meaning(ev: ReturnType<typeof toCim>): unknown {
  const { eventJson: _text, ...envelope } = ev;
  return JSON.parse(JSON.stringify(envelope));
}

describe('hecEventJson', () => {
  it('splices the record as it was in the object and means the same as the envelope', async () => {
    // Escapes written differently from JSON.stringify's choice prove the original bytes are sent.
    const text = JSON.stringify(record).replace('\u00e9', '\\u00e9').replace('slash/', 'slash\\/');
    const [raw] = await decodedRecords(`{"Records":[${text}]}`);
    const ev = toCim(raw!);
    expect(ev.eventJson).toBe(text);
    const line = hecEventJson(ev);
    expect(line).toContain(`"event":${text}`);
    expect(JSON.parse(line)).toEqual(meaning(ev));
    expect(line).not.toContain('eventJson');
  });

  it('serialises the event again when the record was pretty-printed, so one envelope stays one line', async () => {
    const [raw] = await decodedRecords(`{"Records":[\n${JSON.stringify(record, null, 2)}\n]}`);
    const ev = toCim(raw!);
    expect(ev.eventJson).toBeUndefined();
    const line = hecEventJson(ev);
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(meaning(ev));
  });

  it('writes host and index when set, and flow lines as strings', () => {
    const ev = toCim(
      {
        logType: 'vpcflow',
        origin: { key: 'flows/a.log', record: 2 },
        fields: { srcaddr: '10.0.0.1', dstaddr: '10.0.0.2', start: '1700000000', end: '1700000060' },
        line: '2 1 eni-1 10.0.0.1 10.0.0.2 - - - - - 1700000000 1700000060 - NODATA',
      },
      { host: 'h1', index: 'aws' },
    );
    const parsed = JSON.parse(hecEventJson(ev));
    expect(parsed).toEqual(meaning(ev));
    expect(parsed).toMatchObject({ host: 'h1', index: 'aws', event: ev.event });
  });
});
