import { beforeAll, describe, expect, it } from 'vitest';
import { toEcs } from '../../../../src/map/ecs/index.js';
import type { RawRecord } from '../../../../src/types.js';
import { HAVE_PEER, PEER_SKIP_REASON, peerRecords } from './peer-data.js';

type Doc = Record<string, any>;

/**
 * Values from Elastic's own pipeline-test expected outputs (elastic/integrations, packages/aws/data_stream/
 * {cloudtrail,vpcflow}/_dev/test/pipeline/*-expected.json) for the fields detections and dashboards use.
 */
describe.skipIf(!HAVE_PEER)('ECS mapping conforms to Elastic expected outputs', () => {
  let peer: Map<string, RawRecord[]>;
  const docs = (file: string): Doc[] => (peer.get(file) ?? []).map((r) => toEcs(r) as Doc);

  beforeAll(async () => {
    peer = await peerRecords();
  });

  it('ConsoleLogin: outcome from the response, authentication category, user from session issuer', () => {
    const [ok, failed, assumed] = docs('test-console-login-json.log');
    expect(ok?.event).toMatchObject({
      action: 'ConsoleLogin',
      outcome: 'success',
      category: ['authentication'],
      type: ['info'],
    });
    expect(ok?.user.name).toBe('JohnDoe');
    expect(ok?.aws.cloudtrail.console_login.additional_eventdata).toEqual({
      mobile_version: false,
      login_to: 'https://console.aws.amazon.com/s3/',
      mfa_used: false,
    });
    expect(failed?.event.outcome).toBe('failure');
    expect(failed?.aws.cloudtrail.error_message).toBe('Failed authentication');
    expect(assumed?.user.name).toBe('RoleToBeAssumed');
    expect(assumed?.event.outcome).toBe('failure');
    expect(ok?.source).toMatchObject({ address: '89.160.20.156', ip: '89.160.20.156' });
  });

  it('AuthorizeSecurityGroupIngress: Java Map.toString strings, flattened objects, TLS, network/access', () => {
    const [doc] = docs('test-authorize-security-group-ingress-json.log');
    expect(doc?.aws.cloudtrail.request_parameters).toBe(
      '{groupId=sg-0f63fecfa17ef4fee, ipPermissions={items=[{ipRanges={items=[{cidrIp=203.0.113.0/24}]}, fromPort=22, toPort=22, ipProtocol=tcp}]}}',
    );
    expect(doc?.aws.cloudtrail.response_elements).toBe(
      '{_return=true, requestId=8ee075b1-8c09-4cfc-99f5-3f9bbc2382a7, securityGroupRuleSet={items=[{groupOwnerId=000000000, fromPort=22, groupId=sg-0f63fecfa17ef4fee, isEgress=false, toPort=22, cidrIpv4=203.0.113.0/24, ipProtocol=tcp, securityGroupRuleArn=arn:aws:ec2:us-east-1:000000000:security-group-rule/sgr-027eb7c59241731e0, securityGroupRuleId=sgr-027eb7c59241731e0}]}}',
    );
    expect(doc?.aws.cloudtrail.flattened.request_parameters.ipPermissions.items[0]).toEqual({
      fromPort: 22,
      ipProtocol: 'tcp',
      ipRanges: { items: [{ cidrIp: '203.0.113.0/24' }] },
      toPort: 22,
    });
    expect(doc?.event).toMatchObject({ category: ['network'], type: ['access'], outcome: 'success' });
    expect(doc?.tls).toEqual({
      cipher: 'TLS_AES_128_GCM_SHA256',
      client: { server_name: 'ec2.us-east-1.amazonaws.com' },
      version: '1.3',
      version_protocol: 'tls',
    });
    expect(doc?.user).toMatchObject({ id: 'PRINCIPALID', name: 'test@elastic.co', email: 'test@elastic.co' });
    expect(doc?.user_agent).toEqual({
      original:
        'aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/grimoire_e38e3427-7c59-42f2-93e6-4142e9fe9e42 cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#ec2.authorize-security-group-ingress',
      name: 'aws-cli',
      version: '2.17.60',
      device: { name: 'Other' },
    });
    expect(doc?.related.user).toEqual(['PRINCIPALID', 'test@elastic.co']);
  });

  it('AssumeRole: duplicate resources removed, user.name from the session issuer, authentication', () => {
    const [doc] = docs('test-assume-role-json.log');
    expect(doc?.event).toMatchObject({ category: ['authentication'], type: ['info'], outcome: 'success' });
    expect(doc?.user.name).toBe('JohnDoe');
    const arns = ((doc?.aws.cloudtrail.resources ?? []) as Doc[]).map(
      (r) => `${r.arn}|${r.account_id}|${r.type}`,
    );
    expect(new Set(arns).size).toBe(arns.length);
    expect(doc?.aws.cloudtrail.user_identity.session_context.creation_date).toBe('2019-10-02T21:50:54.000Z');
  });

  it('UpdateTrail and DeleteDetector: no category, type info, failure from errorCode', () => {
    const [failed, ok] = docs('test-update-trail-json.log');
    expect(failed?.event).toEqual(
      expect.objectContaining({ action: 'UpdateTrail', outcome: 'failure', type: ['info'] }),
    );
    expect(failed?.event.category).toBeUndefined();
    expect(failed?.aws.cloudtrail.error_code).toBe('TrailNotFoundException');
    expect(ok?.event.outcome).toBe('success');
    expect(ok?.aws.cloudtrail.user_identity.invoked_by).toBe('signin.amazonaws.com');
    expect(ok?.source.ip).toBe('127.0.0.1');
    const [detector] = docs('test-delete-detector-json.log');
    expect(detector?.event).toMatchObject({
      action: 'DeleteDetector',
      provider: 'guardduty.amazonaws.com',
      type: ['info'],
    });
    expect(detector?.aws.cloudtrail.request_parameters).toBe('{detectorId=82c919daa523bc69d203c24868c06849}');
  });

  it('UserAuthentication (Identity Center): user from additionalEventData, service_event_details', () => {
    const [doc] = docs('test-user-authentication.log');
    expect(doc?.user).toEqual({ email: 'redacted@example.com', name: 'redacted@example.com' });
    expect(doc?.aws.cloudtrail.additional_eventdata).toBe(
      '{AuthWorkflowID=redacted, LoginTo=https://redacted.awsapps.com/start/, CredentialType=EXTERNAL_IDP}',
    );
    expect(doc?.aws.cloudtrail.service_event_details).toBe('{UserAuthentication=Success}');
    expect(doc?.source).toEqual({ address: 'redacted' });
    expect(doc?.user_agent).toEqual({
      original:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
      name: 'Chrome',
      version: '140.0.0.0',
      os: { name: 'Mac OS X', version: '10.15.7', full: 'Mac OS X 10.15.7' },
      device: { name: 'Mac' },
    });
    expect(doc?.aws.cloudtrail.user_identity).toEqual({ type: 'IdentityCenterUser' });
  });

  it("user_agent name, version, os and device as Elastic's user_agent processor gives them", () => {
    const ua = (file: string) => docs(file).map((d) => d.user_agent as Doc | undefined);
    // test-console-login-json.log-expected.json (three records, one agent). Its version reads "24.0." from
    // Elasticsearch before 8.16.2 (elastic/elasticsearch#117213); Elastic's test config accepts "24.0".
    for (const firefox of ua('test-console-login-json.log')) {
      expect(firefox).toEqual({
        original: 'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:24.0) Gecko/20100101 Firefox/24.0',
        name: 'Firefox',
        version: '24.0',
        os: { name: 'Windows', version: '7', full: 'Windows 7' },
        device: { name: 'Other' },
      });
    }
    // test-update-trail-json.log-expected.json
    const [cliV1, signin] = ua('test-update-trail-json.log');
    expect(cliV1).toEqual({
      original: 'aws-cli/1.10.32 Python/2.7.9 Windows/7 botocore/1.4.22',
      name: 'aws-cli',
      version: '1.10.32',
      os: { name: 'Windows' },
      device: { name: 'Spider' },
    });
    expect(signin).toEqual({ original: 'signin.amazonaws.com', name: 'Other', device: { name: 'Other' } });
    // test-assume-role-json.log-expected.json (both records)
    for (const assume of ua('test-assume-role-json.log')) {
      expect(assume).toEqual({
        original:
          'aws-cli/1.16.248 Python/3.4.7 Linux/4.9.184-0.1.ac.235.83.329.metal1.x86_64 botocore/1.12.239',
        name: 'aws-cli',
        version: '1.16.248',
        os: { name: 'Linux', version: '4.9.184', full: 'Linux 4.9.184' },
        device: { name: 'Spider' },
      });
    }
    // test-delete-detector-json.log-expected.json: no os.* at all for the aws-cli v2 agent
    const [detector] = ua('test-delete-detector-json.log');
    expect(detector).toMatchObject({ name: 'aws-cli', version: '2.17.60', device: { name: 'Other' } });
    expect(detector?.os).toBeUndefined();
  });

  it('Insights events map, with insight details flattened', () => {
    const [doc] = docs('test-insight-json.log');
    expect(doc?.aws.cloudtrail.event_type).toBe('AwsCloudTrailInsight');
    expect(doc?.aws.cloudtrail.flattened.insight_details.insightType).toBe('ApiCallRateInsight');
    expect(doc?.event.kind).toBe('event');
    expect(doc?.['@timestamp']).toBe('2020-09-09T23:00:00.000Z');
  });

  it('VPC flow v5 all fields', () => {
    const [doc] = docs('test-v5-all-fields.log');
    expect(doc?.network).toEqual({
      bytes: 1,
      community_id: '1:+zLdyx7gcy2L5ERP4Je5AZMgl3A=',
      direction: 'ingress',
      iana_number: '17',
      packets: 52,
      transport: 'udp',
      type: 'ipv4',
    });
    expect(doc?.cloud).toEqual({
      account: { id: '64111117617' },
      availability_zone: 'use1-az5',
      instance: { id: 'i-0axxxxxx1ad77' },
      provider: 'aws',
      region: 'us-east-1',
    });
    expect(doc?.source).toEqual({
      address: '89.160.20.156',
      ip: '89.160.20.156',
      port: 50041,
      bytes: 1,
      packets: 52,
    });
    expect(doc?.destination).toEqual({ address: '10.200.0.0', ip: '10.200.0.0', port: 33004 });
    expect(doc?.event).toMatchObject({
      outcome: 'failure',
      category: ['network'],
      start: '1975-03-14T03:34:26.000Z',
    });
    expect(doc?.['@timestamp']).toBe('2021-12-20T11:38:17.000Z');
    expect(doc?.aws.vpcflow).toEqual({
      account_id: '64111117617',
      action: 'REJECT',
      instance_id: 'i-0axxxxxx1ad77',
      interface_id: 'eni-069xxxxxb7a490',
      log_status: 'OK',
      pkt_dst_service: 'CLOUDFRONT',
      pkt_dstaddr: '10.200.0.80',
      pkt_src_service: 'AMAZON',
      pkt_srcaddr: '89.160.20.156',
      subnet_id: 'subnet-02d645xxxxxxxdbc0',
      tcp_flags: '1',
      tcp_flags_array: ['fin'],
      traffic_path: '1',
      type: 'IPv4',
      version: '5',
      vpc_id: 'vpc-09676f97xxxxxb8a7',
    });
    expect(doc?.related.ip).toEqual(['89.160.20.156', '10.200.0.0']);
  });

  it('VPC flow v8: ECS task fields to orchestrator/service, reject reason, no "-" in cloud', () => {
    const [doc] = docs('test-v8-samples.log');
    expect(doc?.event).toMatchObject({
      action: 'REJECT',
      outcome: 'failure',
      reason: 'BPA',
      type: ['connection', 'denied'],
    });
    expect(doc?.orchestrator).toEqual({
      cluster: { id: 'arn:aws:ecs:us-east-1:000000000000:cluster/backend-cluster', name: 'backend-cluster' },
      resource: {
        id: 'i-18de3682c033431da',
        name: 'arn:aws:ecs:us-east-1:000000000000:container-instance/backend-cluster/i-18de3682c033431da',
      },
    });
    expect(doc?.service).toEqual({ name: 'payments-service' });
    expect(doc?.aws.vpcflow).toMatchObject({
      ecs_container_id: '601a6500-efa',
      ecs_task_id: 'e504f037-35c',
      log_status: 'NODATA',
    });
    expect(doc?.cloud).toEqual({ account: { id: '000000000000' }, provider: 'aws' });
    // NODATA: no traffic fields (Elastic's synthetic sample carries some; AWS writes '-' for them).
    expect(doc?.source).toBeUndefined();
    expect(doc?.network).toBeUndefined();
  });

  it('VPC flow v2 extra samples and the v3 tcp-flag order', () => {
    const flows = docs('test-extra-samples.log');
    expect(flows[0]?.network).toMatchObject({ type: 'ipv6', transport: 'tcp', iana_number: '6' });
    expect(flows[1]?.aws.vpcflow).toEqual({
      version: '2',
      account_id: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
      log_status: 'NODATA',
    });
    expect(flows[4]?.event).toMatchObject({ outcome: 'failure', type: ['connection', 'denied'] });
    expect(flows[5]?.network).toMatchObject({ transport: 'icmp', iana_number: '1' });
    // Community IDs as in Elastic's expected output: ICMP hashed with type 0 / code 0 (no icmp.* fields),
    // so the two directions of the ping differ; TCP with its ports.
    expect(flows.map((f) => f.network?.community_id)).toEqual([
      '1:3piNHoW0DjbrWkF//BeRomCaOZQ=',
      undefined,
      undefined,
      '1:CEGBlG6oEeW2Y5LLdr9GONITz00=',
      '1:va8LK/uEqYpj4NoZ9/5WRLio5rs=',
      '1:cttDCHp3UNR8SFNTOgVYpAceHf4=',
      '1:XiVZKra6oEtIAPBi9QgeQL4Hp6M=',
    ]);
    const [tcp] = docs('test-tcp-flag-sequence.log');
    expect(tcp?.aws.vpcflow).toMatchObject({
      tcp_flags: '2',
      tcp_flags_array: ['syn'],
      vpc_id: 'vpc-abcdefab012345678',
    });
    expect(tcp?.source).toMatchObject({ ip: '89.160.20.156', port: 43416, bytes: 568, packets: 8 });
    const [wrapped] = docs('test-with-message-field.log');
    expect(wrapped?.aws.vpcflow.log_status).toBe('NODATA');
  });

  it('attack data: invalid IPs stay address-only, missing identity types do not crash', () => {
    expect(docs('stratus_aws.credential-access.ec2-steal-instance-credentials.json')).toHaveLength(45);
    const [backdoor] = docs('stratus_aws.persistence.iam-backdoor-user.json');
    expect(backdoor?.source).toEqual({ address: '211.9.016.253' });
    expect(backdoor?.related?.ip).toBeUndefined();
    expect(backdoor?.event).toMatchObject({
      action: 'CreateAccessKey',
      category: ['iam'],
      type: ['user', 'change'],
    });
    const [stop] = docs('stratus_aws.defense-evasion.cloudtrail-stop.json');
    expect(stop?.event).toMatchObject({
      action: 'StopLogging',
      provider: 'cloudtrail.amazonaws.com',
      outcome: 'success',
    });
    const invictus = docs('invictus_218007301253_CloudTrail_us-east-1_20230710T1205Z_SjF3IkuNXJkoHyar.json');
    const failedStop = invictus.find((d) => d.event.action === 'StopLogging');
    expect(failedStop?.event.outcome).toBe('failure');
    expect(failedStop?.aws.cloudtrail.error_code).toBe('TrailNotFoundException');
    expect(failedStop?.cloud.account.id).toBe('123837392027');
  });
});

describe.skipIf(HAVE_PEER)('peer data', () => {
  it.skip(PEER_SKIP_REASON, () => undefined);
});
