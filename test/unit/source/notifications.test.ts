import { createSign, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeKey, NotificationError, parseNotification } from '../../../src/source/notifications.js';
import { createSnsVerifier, stringToSign } from '../../../src/source/sns-signature.js';

function s3Event(key: string, extra: Record<string, unknown> = {}, eventName = 'ObjectCreated:Put') {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'eu-west-1',
    eventTime: '2026-11-28T10:00:00.000Z',
    eventName,
    s3: { bucket: { name: 'logs' }, object: { key, size: 120, eTag: 'abc', versionId: 'v1', ...extra } },
  };
}

describe('parseNotification', () => {
  it('reads several records of a direct S3 notification and URL-decodes keys', async () => {
    const body = JSON.stringify({ Records: [s3Event('AWSLogs/a+b%3Dc.json.gz'), s3Event('x%2By.gz')] });
    const parsed = await parseNotification(body);
    expect(parsed.envelope).toBe('direct');
    expect(parsed.objects.map((o) => o.key)).toEqual(['AWSLogs/a b=c.json.gz', 'x+y.gz']);
    expect(parsed.objects[0]).toMatchObject({
      bucket: 'logs',
      eTag: 'abc',
      versionId: 'v1',
      region: 'eu-west-1',
      size: 120,
    });
    expect(parsed.objects[0]?.eventTime).toBe(Date.parse('2026-11-28T10:00:00.000Z'));
  });

  it('skips the s3:TestEvent, removals and zero-byte objects, with reasons', async () => {
    expect(
      (await parseNotification(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }))).skipped,
    ).toEqual([{ reason: 'test-event' }]);
    const parsed = await parseNotification(
      JSON.stringify({
        Records: [s3Event('gone', {}, 'ObjectRemoved:Delete'), s3Event('empty', { size: 0 })],
      }),
    );
    expect(parsed.objects).toEqual([]);
    expect(parsed.skipped.map((s) => s.reason)).toEqual(['not-object-created', 'empty-object']);
  });

  it('unwraps an SNS envelope', async () => {
    const body = JSON.stringify({
      Type: 'Notification',
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:logs',
      Message: JSON.stringify({ Records: [s3Event('k.gz')] }),
    });
    const parsed = await parseNotification(body);
    expect(parsed.envelope).toBe('sns');
    expect(parsed.objects.map((o) => o.key)).toEqual(['k.gz']);
  });

  it('reads an EventBridge Object Created event, its key as stored (EventBridge does not URL-encode it)', async () => {
    const body = JSON.stringify({
      version: '0',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      region: 'us-east-2',
      time: '2026-11-28T10:00:00Z',
      detail: {
        bucket: { name: 'b' },
        object: { key: 'dir/10:47:07 c++ 50%25.gz', size: 9, etag: 'e1', 'version-id': 'v9' },
      },
    });
    const parsed = await parseNotification(body);
    expect(parsed.envelope).toBe('eventbridge');
    expect(parsed.objects).toEqual([
      {
        bucket: 'b',
        key: 'dir/10:47:07 c++ 50%25.gz',
        size: 9,
        eTag: 'e1',
        versionId: 'v9',
        region: 'us-east-2',
        eventTime: Date.parse('2026-11-28T10:00:00Z'),
      },
    ]);
  });

  it('rejects bodies that are not notifications with a typed error', async () => {
    await expect(parseNotification('not json')).rejects.toThrow(NotificationError);
    await expect(parseNotification('{"hello":1}')).rejects.toThrow(/not an S3 notification/);
    await expect(parseNotification('{"Records":[{"s3":{}}]}')).rejects.toThrow(/Records\[0\]/);
  });

  it('keeps a key with a stray percent sign as it is', () => {
    expect(decodeKey('100%')).toBe('100%');
  });
});

describe('SNS signature verification', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  function signed(version: '1' | '2') {
    const envelope: Record<string, unknown> = {
      Type: 'Notification',
      MessageId: 'm-1',
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:logs',
      Message: JSON.stringify({ Records: [s3Event('k.gz')] }),
      Timestamp: '2026-11-28T10:00:00.000Z',
      SignatureVersion: version,
      SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/cert.pem',
    };
    const signer = createSign(version === '2' ? 'RSA-SHA256' : 'RSA-SHA1');
    signer.update(stringToSign(envelope));
    envelope.Signature = signer.sign(privateKey, 'base64');
    return envelope;
  }

  const verifyWith = (pem: string) => createSnsVerifier({ fetchCertificate: async () => pem });

  it('signs the documented fields in order', () => {
    expect(
      stringToSign({ Type: 'Notification', Message: 'm', MessageId: 'i', Timestamp: 't', TopicArn: 'a' }),
    ).toBe('Message\nm\nMessageId\ni\nTimestamp\nt\nTopicArn\na\nType\nNotification\n');
  });

  it('refuses certificate URLs that are not SNS hosts before fetching anything', async () => {
    let fetched = false;
    const verify = createSnsVerifier({
      fetchCertificate: async () => {
        fetched = true;
        return '';
      },
    });
    const envelope = { ...signed('2'), SigningCertURL: 'https://evil.example.com/cert.pem' };
    await expect(verify(envelope)).rejects.toThrow(/not an SNS host/);
    expect(fetched).toBe(false);
  });

  it('accepts a valid signature and refuses a tampered message', async () => {
    const { selfSignedPem } = await import('../support/self-signed.js');
    const verify = verifyWith(selfSignedPem(privateKey, publicKey));
    await expect(verify(signed('1'))).resolves.toBeUndefined();
    await expect(verify(signed('2'))).resolves.toBeUndefined();
    const tampered = { ...signed('2'), Message: '{"Records":[]}' };
    await expect(verify(tampered)).rejects.toThrow(/does not verify/);
  });
});
