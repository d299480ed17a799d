import { describe, expect, it } from 'vitest';
import { objectUrl } from '../../../src/map/object-url.js';

describe('objectUrl', () => {
  it('names each object by its own bucket and key, however the calls interleave', () => {
    const a = { bucket: 'logs', key: 'AWSLogs/1/CloudTrail/a.json.gz' };
    const b = { bucket: 'other', key: 'AWSLogs/1/CloudTrail/a.json.gz' };
    const local = { key: 'samples/a.json' };
    expect(objectUrl(a)).toBe('s3://logs/AWSLogs/1/CloudTrail/a.json.gz');
    expect(objectUrl(a)).toBe('s3://logs/AWSLogs/1/CloudTrail/a.json.gz');
    expect(objectUrl(b)).toBe('s3://other/AWSLogs/1/CloudTrail/a.json.gz');
    expect(objectUrl(local)).toBe('samples/a.json');
    expect(objectUrl({ ...a, key: 'AWSLogs/1/CloudTrail/b.json.gz' })).toBe(
      's3://logs/AWSLogs/1/CloudTrail/b.json.gz',
    );
    expect(objectUrl(a)).toBe('s3://logs/AWSLogs/1/CloudTrail/a.json.gz');
  });
});
