import { describe, expect, it } from 'vitest';
import { toCim } from '../../../../src/map/cim/index.js';

/**
 * Derivations the Splunk Add-on for AWS makes at search time (props.conf [aws:cloudtrail]) that ESCU
 * searches rely on, each as the add-on states it, on hand-built records.
 */
const fieldsOf = (event: Record<string, unknown>) =>
  toCim({
    logType: 'cloudtrail',
    origin: { bucket: 'b', key: 'k', record: 1 },
    event: { eventTime: '2026-01-01T00:00:00Z', awsRegion: 'us-east-1', ...event },
  }).fields;

describe('CIM fields as the Splunk Add-on for AWS derives them', () => {
  it('aws_account_id: the recipient account for AWS service and account callers, else the caller account', () => {
    const service = fieldsOf({
      eventSource: 'sts.amazonaws.com',
      eventName: 'AssumeRole',
      recipientAccountId: '111122223333',
      userIdentity: { type: 'AWSService', invokedBy: 'ec2.amazonaws.com' },
    });
    expect(service).toMatchObject({ aws_account_id: '111122223333', vendor_account: '111122223333' });
    const user = fieldsOf({
      eventSource: 's3.amazonaws.com',
      eventName: 'ListBuckets',
      recipientAccountId: '999999999999',
      userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'alice' },
    });
    expect(user).toMatchObject({ aws_account_id: '111122223333', vendor_account: '111122223333' });
  });

  it('CreateAccessKey: the target user from the response, or from the error message when it was denied', () => {
    const created = fieldsOf({
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateAccessKey',
      userIdentity: { type: 'IAMUser', accountId: '1', userName: 'alice' },
      requestParameters: { userName: 'bob' },
      responseElements: { accessKey: { userName: 'bob', accessKeyId: 'AKIAEXAMPLE', status: 'Active' } },
    });
    expect(created).toMatchObject({
      user: 'bob',
      object_id: 'AKIAEXAMPLE',
      action: 'created',
      status: 'success',
    });
    const denied = fieldsOf({
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateAccessKey',
      errorCode: 'AccessDenied',
      errorMessage:
        'User: arn:aws:iam::1:user/eve is not authorized to perform: iam:CreateAccessKey on resource: user bob',
      userIdentity: { type: 'IAMUser', accountId: '1', userName: 'eve' },
    });
    expect(denied).toMatchObject({ user: 'bob', status: 'failure', result_id: 'AccessDenied' });
  });

  it('RunInstances: dest is every instance launched', () => {
    const fields = fieldsOf({
      eventSource: 'ec2.amazonaws.com',
      eventName: 'RunInstances',
      userIdentity: { type: 'IAMUser', accountId: '1', userName: 'alice' },
      responseElements: { instancesSet: { items: [{ instanceId: 'i-0aaa' }, { instanceId: 'i-0bbb' }] } },
    });
    expect(fields.dest).toEqual(['i-0aaa', 'i-0bbb']);
    expect(fields.command).toBe('RunInstances');
  });

  it('network ACL entries: direction, rule action and the range on the side the entry filters', () => {
    const entry = (egress: boolean) =>
      fieldsOf({
        eventSource: 'ec2.amazonaws.com',
        eventName: 'CreateNetworkAclEntry',
        userIdentity: { type: 'IAMUser', accountId: '1', userName: 'alice' },
        requestParameters: { networkAclId: 'acl-1', egress, ruleAction: 'allow', cidrBlock: '0.0.0.0/0' },
      });
    const inbound = entry(false);
    expect(inbound).toMatchObject({ direction: 'Inbound', rule_action: 'allow', src_ip_range: '0.0.0.0/0' });
    expect(inbound.dest_ip_range).toBeUndefined();
    const outbound = entry(true);
    expect(outbound).toMatchObject({
      direction: 'Outbound',
      rule_action: 'allow',
      dest_ip_range: '0.0.0.0/0',
    });
    expect(outbound.src_ip_range).toBeUndefined();
  });

  it('user_agent is the caller agent as recorded', () => {
    const fields = fieldsOf({
      eventSource: 's3.amazonaws.com',
      eventName: 'ListBuckets',
      userAgent: 'aws-cli/2.13.5 Python/3.11.4',
      userIdentity: { type: 'IAMUser', accountId: '1', userName: 'alice' },
    });
    expect(fields.user_agent).toBe('aws-cli/2.13.5 Python/3.11.4');
  });
});
