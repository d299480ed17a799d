import { describe, expect, it } from 'vitest';
import { toEcs } from '../../../../src/map/ecs/index.js';

/** An IAM call by alice, as CloudTrail records it. */
function iamCall(eventName: string, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    eventTime: '2026-01-01T00:00:00Z',
    eventID: `id-${eventName}`,
    eventSource: 'iam.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'alice', principalId: 'AIDAALICE' },
    ...extra,
  };
}

const ecs = (event: Record<string, unknown>) =>
  toEcs({ logType: 'cloudtrail', origin: { key: 'k', record: 1 }, event }) as Record<string, any>;

// The fields Elastic's rules read about whom an IAM call acted on (e.g. "IAM User Created Access Keys For
// Another User" compares user.name with user.target.name).
describe('CloudTrail: the user or group an IAM call acts on', () => {
  it('names the target user of CreateAccessKey apart from the caller, and relates both', () => {
    const doc = ecs(
      iamCall('CreateAccessKey', {
        requestParameters: { userName: 'bob' },
        responseElements: { accessKey: { userName: 'bob', accessKeyId: 'AKIAEXAMPLE', status: 'Active' } },
      }),
    );
    expect(doc.user.name).toBe('alice');
    expect(doc.user.target).toEqual({ name: 'bob' });
    expect(doc.related.user).toEqual(expect.arrayContaining(['alice', 'bob']));
  });

  it('takes the target id from a created user, and the new name of a renamed one', () => {
    const created = ecs(
      iamCall('CreateUser', {
        requestParameters: { userName: 'carol' },
        responseElements: {
          user: { userName: 'carol', userId: 'AIDACAROL', arn: 'arn:aws:iam::1:user/carol' },
        },
      }),
    );
    expect(created.user.target).toEqual({ id: 'AIDACAROL', name: 'carol' });
    const renamed = ecs(
      iamCall('UpdateUser', { requestParameters: { userName: 'carol', newUserName: 'caroline' } }),
    );
    expect(renamed.user.target).toEqual({ name: 'carol' });
    expect(renamed.user.changes).toEqual({ name: 'caroline' });
    expect(renamed.related.user).toEqual(expect.arrayContaining(['alice', 'carol', 'caroline']));
  });

  it('names the group of a group call, with its id from the response', () => {
    const added = ecs(
      iamCall('AddUserToGroup', { requestParameters: { groupName: 'admins', userName: 'bob' } }),
    );
    expect(added.group).toEqual({ name: 'admins' });
    expect(added.user.target).toEqual({ name: 'bob' });
    const created = ecs(
      iamCall('CreateGroup', {
        requestParameters: { groupName: 'ops' },
        responseElements: { group: { groupName: 'ops', groupId: 'AGPAOPS' } },
      }),
    );
    expect(created.group).toEqual({ id: 'AGPAOPS', name: 'ops' });
    expect(ecs(iamCall('ListUsers', {})).group).toBeUndefined();
  });

  it("keeps request parameters' flattened copy only while Elasticsearch can index its string form", () => {
    // A keyword is at most 32,766 bytes: Elastic's pipeline drops the flattened copy of a longer one.
    const policy = (size: number) => ({ policyDocument: 'x'.repeat(size) });
    const small = ecs(iamCall('PutUserPolicy', { requestParameters: policy(1_000) }));
    const large = ecs(iamCall('PutUserPolicy', { requestParameters: policy(40_000) }));
    expect(small.aws.cloudtrail.flattened.request_parameters).toEqual(policy(1_000));
    expect(large.aws.cloudtrail.request_parameters).toHaveLength(40_000 + '{policyDocument=}'.length);
    expect(large.aws.cloudtrail.flattened?.request_parameters).toBeUndefined();
  });
});

describe('CloudTrail event.original', () => {
  it('keeps the record exactly as it was in the object in event.original, when asked', () => {
    const event = iamCall('ListUsers', {});
    const text = JSON.stringify(event, null, 2);
    const doc = toEcs(
      { logType: 'cloudtrail', origin: { key: 'k', record: 1 }, event, text },
      { includeOriginal: true },
    ) as Record<string, any>;
    expect(doc.event.original).toBe(text);
  });
});
