import { describe, expect, it } from 'vitest';
import { toEcs } from '../../../src/map/ecs/index.js';
import { generateCloudTrailRecords } from '../../../src/samples/index.js';
import { decodeAll, records, rejects } from './helpers.js';

/** A CloudTrail record as an EventBridge rule hands it on (to Firehose, which writes them one after another). */
function eventBridge(record: Record<string, unknown>, detailType = 'AWS API Call via CloudTrail') {
  return JSON.stringify({
    version: '0',
    id: `eb-${String(record.eventID)}`,
    'detail-type': detailType,
    source: `aws.${String(record.eventSource).split('.')[0]}`,
    account: '123456789012',
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  });
}

describe('CloudTrail records delivered through EventBridge', () => {
  it('yields each event’s detail as the record, its type told by the content', async () => {
    const trail = generateCloudTrailRecords({ seed: 8, count: 4 }) as Record<string, unknown>[];
    const text = [
      eventBridge(trail[0]!),
      eventBridge(trail[1]!, 'AWS Console Sign In via CloudTrail'),
      eventBridge(trail[2]!, 'AWS Service Event via CloudTrail'),
      eventBridge(trail[3]!),
    ].join('');
    const results = await decodeAll(text, {
      origin: { key: 'firehose/2026/11/28/10/cloudtrail-events-1' },
      logType: 'auto',
    });
    expect(rejects(results)).toEqual([]);
    const got = records(results);
    expect(got.map((r) => (r.logType === 'cloudtrail' ? r.event : undefined))).toEqual(trail);
    const doc = toEcs(got[0]!) as { event: { action: string; id: string } };
    expect(doc.event).toMatchObject({ action: trail[0]!.eventName, id: trail[0]!.eventID });
  });

  it('leaves an event that is not from CloudTrail as it is (the mapper then names what it lacks)', async () => {
    const other = JSON.stringify({
      version: '0',
      'detail-type': 'EC2 Instance State-change Notification',
      detail: { state: 'stopped' },
    });
    const [record] = records(await decodeAll(other, { origin: { key: 'x' }, logType: 'cloudtrail' }));
    expect(record?.logType === 'cloudtrail' && record.event['detail-type']).toBe(
      'EC2 Instance State-change Notification',
    );
  });
});
