import { describe, expect, it } from 'vitest';
import { parseS3Location } from '../../src/s3-location.js';

describe('parseS3Location', () => {
  it('splits bucket and prefix, with or without a trailing slash', () => {
    expect(parseS3Location('s3://b/p/q')).toEqual({ bucket: 'b', prefix: 'p/q/' });
    expect(parseS3Location('s3://b/p/')).toEqual({ bucket: 'b', prefix: 'p/' });
    expect(parseS3Location('s3://b')).toEqual({ bucket: 'b', prefix: '' });
    expect(() => parseS3Location('https://b/p')).toThrow(/s3:\/\/bucket\/prefix/);
    expect(() => parseS3Location('b/p', 'dead letter target')).toThrow(
      'dead letter target must be s3://bucket/prefix, got b/p',
    );
  });
});
