import { describe, expect, it } from 'vitest';
import { toEcs } from '../../../../src/map/ecs/index.js';

const ecs = (userIdentity: Record<string, unknown>) =>
  toEcs({
    logType: 'cloudtrail',
    origin: { key: 'k', record: 1 },
    event: {
      eventVersion: '1.08',
      eventTime: '2026-01-01T00:00:00Z',
      eventSource: 'sts.amazonaws.com',
      eventName: 'GetCallerIdentity',
      awsRegion: 'us-east-1',
      userIdentity,
    },
  }) as Record<string, any>;

/** An Identity Center (SSO) session: the role is the permission set, the session name the person. */
function assumedRole(session: string): Record<string, unknown> {
  const role = 'AWSReservedSSO_SecurityAudit_8df5ccd37b';
  return {
    type: 'AssumedRole',
    principalId: `AROAEXAMPLE:${session}`,
    arn: `arn:aws:sts::111122223333:assumed-role/${role}/${session}`,
    accountId: '111122223333',
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLE',
        arn: `arn:aws:iam::111122223333:role/${role}`,
        accountId: '111122223333',
        userName: role,
      },
    },
  };
}

// Who acted, for hunting and entity views: Elastic's pipeline (2025-26) names the person behind a role
// session and an IAM user named by an address.
describe('CloudTrail: the person behind an identity', () => {
  it('takes an address session name as user.email and relates it and its local part first', () => {
    const doc = ecs(assumedRole('firstname.lastname@example.com'));
    expect(doc.user).toEqual({
      id: 'AROAEXAMPLE:firstname.lastname@example.com',
      name: 'AWSReservedSSO_SecurityAudit_8df5ccd37b',
      email: 'firstname.lastname@example.com',
    });
    expect(doc.related.user).toEqual([
      'firstname.lastname@example.com',
      'firstname.lastname',
      'AROAEXAMPLE:firstname.lastname@example.com',
      'AWSReservedSSO_SecurityAudit_8df5ccd37b',
    ]);
  });

  it('relates any other session name, without an e-mail address', () => {
    const doc = ecs(assumedRole('deploy-pipeline'));
    expect(doc.user.email).toBeUndefined();
    expect(doc.related.user).toEqual([
      'deploy-pipeline',
      'AROAEXAMPLE:deploy-pipeline',
      'AWSReservedSSO_SecurityAudit_8df5ccd37b',
    ]);
  });

  it("relates a federated user's name from its ARN", () => {
    const doc = ecs({
      type: 'FederatedUser',
      principalId: '111122223333:bob@example.com',
      arn: 'arn:aws:sts::111122223333:federated-user/bob@example.com',
      accountId: '111122223333',
    });
    expect(doc.user.email).toBe('bob@example.com');
    expect(doc.related.user.slice(0, 2)).toEqual(['bob@example.com', 'bob']);
  });

  it('copies an IAM user name that is an address to user.email, keeping the name', () => {
    const base = { type: 'IAMUser', principalId: 'AIDAEXAMPLE', accountId: '111122223333' };
    expect(ecs({ ...base, userName: 'ops@example.com' }).user).toEqual({
      id: 'AIDAEXAMPLE',
      name: 'ops@example.com',
      email: 'ops@example.com',
    });
    expect(ecs({ ...base, userName: 'alice' }).user.email).toBeUndefined();
    // Not an address: nothing before or after the @.
    expect(ecs({ ...base, userName: '@ops' }).user.email).toBeUndefined();
    expect(ecs({ ...base, userName: 'ops@' }).user.email).toBeUndefined();
  });
});
