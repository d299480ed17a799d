import { describe, expect, it } from 'vitest';
import { cloudTrailOfOcsf } from '../../../src/decode/ocsf.js';
import { toEcs } from '../../../src/map/ecs/index.js';
import {
  flowFieldsForVersion,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../../src/samples/index.js';
import type { RawRecord } from '../../../src/types.js';
import { ocsfFlowParquet, ocsfOfCloudTrail, ocsfOfFlow, ocsfParquet } from '../support/ocsf.js';
import { decodeAll, records, rejects } from './helpers.js';

const SECURITY_LAKE_KEY =
  'aws/CLOUD_TRAIL_MGMT/2.0/region=us-east-1/accountId=123456789012/eventDay=20261129/0f1e2d3c.gz.parquet';

/** Generated records as JSON does, so `undefined` members and key order do not matter. */
const plain = (value: unknown) => JSON.parse(JSON.stringify(value));

/**
 * A record as OCSF can carry it: a member CloudTrail writes as null (`"responseElements": null`) has no
 * value there to keep, so it comes back absent.
 */
const carried = (record: unknown) =>
  Object.fromEntries(Object.entries(plain(record) as Record<string, unknown>).filter(([, v]) => v !== null));

describe('CloudTrail records from OCSF (Security Lake)', () => {
  const originals = generateCloudTrailRecords({ seed: 41_000, count: 400 });

  it('comes back field for field from each OCSF event, whatever the event', () => {
    for (const original of originals) {
      const outcome = cloudTrailOfOcsf(plain(ocsfOfCloudTrail(original)));
      expect(outcome.kind).toBe('cloudtrail');
      if (outcome.kind === 'cloudtrail') expect(outcome.record).toEqual(carried(original));
    }
  });

  it("reads Security Lake's version 1 actor (ARN in uuid, principal in uid, account_uid)", () => {
    const event = plain(ocsfOfCloudTrail(originals[0]!));
    const user = event.actor.user;
    event.actor.user = { type: user.type, uid: user.uid_alt, uuid: user.uid, account_uid: user.account.uid };
    const outcome = cloudTrailOfOcsf(event);
    expect(outcome.kind === 'cloudtrail' && outcome.record.userIdentity).toMatchObject({
      principalId: user.uid_alt,
      arn: user.uid,
      accountId: user.account.uid,
    });
  });

  it('refuses another product’s events and CloudTrail events without an operation, naming the field', () => {
    const finding = { class_uid: 2001, metadata: { product: { name: 'Security Hub' } } };
    expect(cloudTrailOfOcsf(finding)).toEqual({
      kind: 'unsupported',
      reason:
        "an OCSF event of Security Hub (class 2001); only CloudTrail's and Amazon VPC flow logs' are read",
      field: 'metadata.product.name',
    });
    const event = plain(ocsfOfCloudTrail(originals[0]!));
    delete event.api.operation;
    expect(cloudTrailOfOcsf(event)).toMatchObject({ kind: 'unsupported', field: 'api.operation' });
  });

  it('reads a Security Lake Parquet object (nested columns, gzip pages) into the same ECS documents', async () => {
    const sample = originals.slice(0, 120);
    const parquet = ocsfParquet(sample.map(ocsfOfCloudTrail));
    const origin = { bucket: 'aws-security-data-lake-us-east-1-abc', key: SECURITY_LAKE_KEY };
    const results = await decodeAll(parquet, { origin, chunkSize: 4096 });
    expect(rejects(results)).toEqual([]);
    const decoded = records(results);
    expect(decoded).toHaveLength(sample.length);
    decoded.forEach((record, i) => {
      expect(record.origin).toEqual({ ...origin, record: i + 1 });
      // The documents a trail's own record makes, from the same object.
      const expected: RawRecord = { logType: 'cloudtrail', origin: record.origin, event: plain(sample[i]) };
      expect(toEcs(record)).toEqual(toEcs(expected));
    });
  });

  it('reads OCSF events as NDJSON (CloudWatch Logs parseToOCSF through Firehose), told from the content', async () => {
    const sample = originals.slice(0, 30);
    const ndjson = `${sample.map((r) => JSON.stringify(ocsfOfCloudTrail(r))).join('\n')}\n`;
    const foreign = JSON.stringify({ class_uid: 2001, metadata: { product: { name: 'Security Hub' } } });
    const results = await decodeAll(`${ndjson}${foreign}\n`, {
      origin: { key: 'firehose/2026/11/29/ocsf.json' },
    });
    expect(records(results).map((r) => (r.logType === 'cloudtrail' ? r.event : undefined))).toEqual(
      sample.map((r) => carried(r)),
    );
    // The event of another product is refused, named, and kept for the dead letter; the others flow.
    expect(rejects(results)).toEqual([
      expect.objectContaining({
        code: 'DECODE_OCSF_UNSUPPORTED',
        field: 'metadata.product.name',
        origin: { key: 'firehose/2026/11/29/ocsf.json', record: sample.length + 1 },
        raw: foreign,
      }),
    ]);
  });

  it('refuses a Parquet object of flow columns where CloudTrail is expected', async () => {
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const flows = new Uint8Array(
      parquetWriteBuffer({ columnData: [{ name: 'version', data: [5], type: 'INT32' }] }),
    );
    const results = await decodeAll(flows, { origin: { key: SECURITY_LAKE_KEY }, chunkSize: 4096 });
    expect(rejects(results)).toEqual([
      expect.objectContaining({
        code: 'DECODE_PARQUET_INVALID',
        reason: expect.stringMatching(/without OCSF columns/),
      }),
    ]);
  });
});

describe('VPC flow records from OCSF (Security Lake)', () => {
  const FLOW_KEY =
    'aws/VPC_FLOW/2.0/region=us-east-1/accountId=123456789012/eventDay=20261129/1a2b3c.gz.parquet';

  /** Flow records decoded from generated lines of every field AWS documents up to version 5. */
  async function originals(count: number) {
    const lines = generateFlowLines({ seed: 43_000, count, version: 5, fields: flowFieldsForVersion(5) });
    return records(
      await decodeAll(`${lines.join('\n')}\n`, { origin: { key: 'flows.log' }, chunkSize: 4096 }),
    ).flatMap((r) => (r.logType === 'vpcflow' ? [r] : []));
  }

  /** A record's fields that hold a value. */
  const present = (fields: Record<string, string | undefined>) =>
    Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));

  it('comes back field for field from Parquet, interface and packet addresses, direction and path included', async () => {
    // Every fifth flow as through a NAT or a load balancer: its packets' source is not the interface's.
    const flows = (await originals(300)).map((f, i) =>
      i % 5 === 0 && f.fields.srcaddr ? { ...f, fields: { ...f.fields, 'pkt-srcaddr': '100.64.7.9' } } : f,
    );
    expect(flows.some((f) => f.fields['pkt-srcaddr'] === '100.64.7.9')).toBe(true);
    expect(flows.some((f) => f.fields['log-status'] === 'NODATA')).toBe(true);
    const parquet = ocsfFlowParquet(flows.map((f) => ocsfOfFlow(f.fields)));
    const origin = { bucket: 'aws-security-data-lake-us-east-1-abc', key: FLOW_KEY };
    const results = await decodeAll(parquet, { origin, chunkSize: 4096 });
    expect(rejects(results)).toEqual([]);
    const decoded = records(results);
    expect(decoded).toHaveLength(flows.length);
    decoded.forEach((record, i) => {
      if (record.logType !== 'vpcflow') throw new Error('expected a flow record');
      expect(present(record.fields)).toEqual(present(flows[i]!.fields));
      // Mapped like the flow log's own line.
      const { id: _ours, ...ours } = toEcs(record) as Record<string, unknown>;
      const { id: _theirs, ...theirs } = toEcs({ ...flows[i]!, origin: record.origin }) as Record<
        string,
        unknown
      >;
      expect(ours).toEqual(theirs);
    });
  });

  it('reads OCSF flow events as NDJSON too, between CloudTrail ones', async () => {
    const flows = (await originals(20)).slice(0, 5);
    const trail = generateCloudTrailRecords({ seed: 41_500, count: 2 });
    const lines = [
      ocsfOfCloudTrail(trail[0]!),
      ...flows.map((f) => ocsfOfFlow(f.fields)),
      ocsfOfCloudTrail(trail[1]!),
    ].map((e) => JSON.stringify(e));
    const decoded = records(
      await decodeAll(`${lines.join('\n')}\n`, { origin: { key: 'firehose/ocsf.json' } }),
    );
    expect(decoded.map((r) => r.logType)).toEqual([
      'cloudtrail',
      ...flows.map(() => 'vpcflow'),
      'cloudtrail',
    ]);
    decoded.slice(1, -1).forEach((r, i) => {
      if (r.logType === 'vpcflow') expect(present(r.fields)).toEqual(present(flows[i]!.fields));
    });
  });
});
