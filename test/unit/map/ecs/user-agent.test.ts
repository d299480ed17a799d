import { describe, expect, it } from 'vitest';
import { toEcs } from '../../../../src/map/ecs/index.js';
import { loadUserAgentRules, parseUserAgent } from '../../../../src/map/ecs/user-agent.js';
import type { RawRecord } from '../../../../src/types.js';

/**
 * Expected values come from Elastic's pipeline-test golden outputs (elastic/integrations,
 * packages/aws/data_stream/cloudtrail/_dev/test/pipeline/<file>-expected.json, named per case) or, where no
 * golden output has the agent, from reading the matching uap-core 0.18.0 rules (quoted per case) together with
 * the way Elasticsearch's user_agent processor turns a rule match into ECS fields.
 */
describe('parseUserAgent: ECS user_agent as Elasticsearch’s user_agent processor builds it', () => {
  it('Mac Chrome: "Mac OS X" and device "Mac" (test-user-authentication.log-expected.json)', () => {
    const original =
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
    expect(parseUserAgent(original)).toEqual({
      original,
      name: 'Chrome',
      version: '140.0.0.0',
      os: { name: 'Mac OS X', version: '10.15.7', full: 'Mac OS X 10.15.7' },
      device: { name: 'Mac' },
    });
  });

  it('Windows Firefox: Windows 7, device Other (test-console-login-json.log-expected.json)', () => {
    const original = 'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:24.0) Gecko/20100101 Firefox/24.0';
    expect(parseUserAgent(original)).toEqual({
      original,
      name: 'Firefox',
      // The golden file still says "24.0." (Elasticsearch before 8.16.2); since elastic/elasticsearch#117213
      // an empty version part ends the version, and Elastic's test config accepts both (dynamic_fields).
      version: '24.0',
      os: { name: 'Windows', version: '7', full: 'Windows 7' },
      device: { name: 'Other' },
    });
  });

  it('Firefox 128 has no trailing dot (elastic/elasticsearch#116950, the expected "128.0")', () => {
    const ua = parseUserAgent(
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0',
    );
    expect(ua.version).toBe('128.0');
  });

  it('signin.amazonaws.com: name and device "Other", no os or version (test-update-trail-json.log-expected.json)', () => {
    expect(parseUserAgent('signin.amazonaws.com')).toEqual({
      original: 'signin.amazonaws.com',
      name: 'Other',
      device: { name: 'Other' },
    });
  });

  it('service host names are "Other" too: ec2 (test-assume-role-aws-service-json.log-expected.json), console', () => {
    // No uap-core rule matches a bare host name; console.amazonaws.com has the shape of the two golden cases.
    for (const original of ['ec2.amazonaws.com', 'console.amazonaws.com']) {
      expect(parseUserAgent(original)).toEqual({ original, name: 'Other', device: { name: 'Other' } });
    }
  });

  it('aws-cli/2.x: product and version, no os, device Other (test-delete-detector-json.log-expected.json)', () => {
    const original =
      'aws-cli/2.17.60 md/awscrt#0.21.2 ua/2.0 os/macos#23.6.0 md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython exec-env/grimoire_c11215cc-0dab-4506-b744-4f477e8062f6 cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#guardduty.delete-detector';
    expect(parseUserAgent(original)).toEqual({
      original,
      name: 'aws-cli',
      version: '2.17.60',
      device: { name: 'Other' },
    });
  });

  it('aws-cli/2.x on Linux: os name only (test-send-command-targets-json.log-expected.json)', () => {
    const original =
      'aws-cli/2.18.17 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1016-aws md/arch#x86_64 lang/python#3.12.6 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.24 md/prompt#off md/command#ssm.send-command';
    expect(parseUserAgent(original)).toEqual({
      original,
      name: 'aws-cli',
      version: '2.18.17',
      os: { name: 'Linux' },
      device: { name: 'Other' },
    });
  });

  it('aws-cli/1.x carries botocore, so the device is "Spider" (test-update-trail, test-assume-role goldens)', () => {
    expect(parseUserAgent('aws-cli/1.10.32 Python/2.7.9 Windows/7 botocore/1.4.22')).toEqual({
      original: 'aws-cli/1.10.32 Python/2.7.9 Windows/7 botocore/1.4.22',
      name: 'aws-cli',
      version: '1.10.32',
      os: { name: 'Windows' },
      device: { name: 'Spider' },
    });
    const linux =
      'aws-cli/1.16.248 Python/3.4.7 Linux/4.9.184-0.1.ac.235.83.329.metal1.x86_64 botocore/1.12.239';
    expect(parseUserAgent(linux)).toEqual({
      original: linux,
      name: 'aws-cli',
      version: '1.16.248',
      os: { name: 'Linux', version: '4.9.184', full: 'Linux 4.9.184' },
      device: { name: 'Spider' },
    });
  });

  it('Boto3: product and version, Linux with version, device "Spider"', () => {
    // uap-core 0.18.0: '\b(Boto3?|JetS3t|aws-(?:cli|sdk-…))/(\d+)\.(\d+)(?:\.(\d+)|)' (AWS S3 clients),
    // '(Linux)(?:[ /](\d+)\.(\d+)(?:\.(\d+)|)|)', and the Spider rule '…(bot|…)' with regex_flag 'i'
    // ("Boto3" contains "bot"; Elastic's bundled copy has the same case-insensitive rule). The Linux
    // version cut matches Elastic's golden "Linux/4.9.184-0.1…" → "Linux 4.9.184" above.
    const original = 'Boto3/1.26.165 Python/3.10.6 Linux/5.19.0-46-generic Botocore/1.29.165';
    expect(parseUserAgent(original)).toEqual({
      original,
      name: 'Boto3',
      version: '1.26.165',
      os: { name: 'Linux', version: '5.19.0', full: 'Linux 5.19.0' },
      device: { name: 'Spider' },
    });
  });

  it('aws-internal/3 with the Java SDK: the SDK token names it, Linux with version, device Other', () => {
    // "aws-internal/3" matches no rule; the AWS S3 clients rule finds "aws-sdk-java/1.12.488" and the
    // Linux rule "Linux/5.10.184"; nothing in the string is a Spider word.
    const original =
      'aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.184-154.751.amzn2int.x86_64 OpenJDK_64-Bit_Server_VM/25.372-b08 java/1.8.0_372 vendor/Oracle_Corporation cfg/retry-mode/standard';
    expect(parseUserAgent(original)).toEqual({
      original,
      name: 'aws-sdk-java',
      version: '1.12.488',
      os: { name: 'Linux', version: '5.10.184', full: 'Linux 5.10.184' },
      device: { name: 'Other' },
    });
  });

  it('other SDK agents as in Elastic’s goldens: nodejs, go on Windows, console backend', () => {
    // test-get-caller-identity-json.log-expected.json
    expect(
      parseUserAgent(
        'aws-sdk-nodejs/2.1384.0 darwin/v20.16.0 AWS-Toolkit-For-VSCode/3.31.0 Visual-Studio-Code/1.94.2 ClientId/37f8324b-eab7-4264-9abd-4be2e6454726 promise',
      ),
    ).toMatchObject({ name: 'aws-sdk-nodejs', version: '2.1384.0', device: { name: 'Other' } });
    // test-us-gov-arn.log-expected.json: no os
    const go = parseUserAgent(
      'aws-sdk-go/1.55.5 (go1.23.8; windows; amd64) exec-env/EC2 amazon-ssm-agent/3.3.2471.0',
    );
    expect(go).toMatchObject({ name: 'aws-sdk-go', version: '1.55.5', device: { name: 'Other' } });
    expect(go.os).toBeUndefined();
    // test-create-key-pair-json.log-expected.json: no client rule matches, the OS one does
    const backend =
      'EC2ConsoleBackend, aws-sdk-java/Linux/x.xx.fleetxen Java_HotSpot(TM)_64-Bit_Server_VM/xx';
    expect(parseUserAgent(backend)).toEqual({
      original: backend,
      name: 'Other',
      os: { name: 'Linux' },
      device: { name: 'Other' },
    });
  });

  it('returns a fresh copy each time, so a caller cannot change the cached result', () => {
    const agent = 'Mozilla/5.0 (Windows NT 6.1; WOW64; rv:24.0) Gecko/20100101 Firefox/24.0';
    const first = parseUserAgent(agent);
    (first.os as Record<string, unknown>).name = 'changed';
    (first.device as Record<string, unknown>).name = 'changed';
    first.name = 'changed';
    expect(parseUserAgent(agent)).toMatchObject({
      name: 'Firefox',
      os: { name: 'Windows' },
      device: { name: 'Other' },
    });
  });

  it('reads at most the first 1,024 characters of an agent, and keeps all of it as original', () => {
    // Anyone can send a long crafted agent; the rules see its head only.
    const long = `aws-cli/2.13.5 Python/3.11.4 ${'x'.repeat(5_000)} (Windows NT 10.0; Win64; x64)`;
    const ua = parseUserAgent(long);
    expect(ua.original).toBe(long);
    expect(ua).toMatchObject({ name: 'aws-cli', version: '2.13.5' });
    expect(ua.os).toBeUndefined();
  });

  it('loads uap-core’s user agent, OS and device rules', () => {
    expect(loadUserAgentRules()).toBeGreaterThan(1000);
  });
});

describe('CloudTrail records without an agent', () => {
  const record = (event: Record<string, unknown>): RawRecord => ({
    logType: 'cloudtrail',
    origin: { key: 'test-object', record: 1 },
    event: {
      eventVersion: '1.08',
      eventTime: '2024-10-08T10:15:32Z',
      eventSource: 'sts.amazonaws.com',
      eventName: 'GetCallerIdentity',
      eventID: 'b3d7f1a2-6c4e-4d8b-8e21-5a9c0e7f4d33',
      ...event,
    },
  });

  it('an absent or empty userAgent gives no user_agent (Elastic drops empty values before the processor)', () => {
    const absent = toEcs(record({})) as Record<string, unknown>;
    expect(absent.user_agent).toBeUndefined();
    const empty = toEcs(record({ userAgent: '' })) as Record<string, unknown>;
    expect(empty.user_agent).toBeUndefined();
  });

  it('an empty string given to the parser directly is "Other", as the processor would make it', () => {
    expect(parseUserAgent('')).toEqual({ original: '', name: 'Other', device: { name: 'Other' } });
  });
});
