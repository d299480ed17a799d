import { describe, expect, it } from 'vitest';
import { Endpoint, keepCookies } from '../../../../src/sink/hec/transport.js';

describe('Endpoint', () => {
  it('honours Retry-After only up to the max delay', () => {
    const e = new Endpoint('https://hec.example:8088');
    e.markDown(1_000, 900_000, 30_000);
    expect(e.downUntil).toBe(31_000);
    expect(e.isUp(30_999)).toBe(false);
  });

  it('after its down time it is due for a health probe until marked up', () => {
    const e = new Endpoint('https://hec.example:8088/services/collector/event');
    expect(e.basePath).toBe('');
    expect(e.needsProbe).toBe(false);
    e.markDown(0, undefined, 30_000);
    expect(e.isUp(250)).toBe(true);
    expect(e.needsProbe).toBe(true);
    e.stillDown(250, 5_000);
    expect(e.isUp(5_249)).toBe(false);
    e.markUp();
    expect(e.needsProbe).toBe(false);
  });
});

describe('keepCookies', () => {
  it('keeps name and value, replaces a cookie set again, and drops one that expired', () => {
    const jar = new Map<string, string>();
    keepCookies(jar, [
      'AWSALB=abc123; Expires=Tue, 01 Jan 2030 00:00:00 GMT; Path=/',
      'AWSALBCORS=abc123; SameSite=None; Secure',
    ]);
    expect([...jar]).toEqual([
      ['AWSALB', 'abc123'],
      ['AWSALBCORS', 'abc123'],
    ]);
    keepCookies(jar, 'AWSALB=def456; Path=/');
    expect(jar.get('AWSALB')).toBe('def456');
    keepCookies(jar, ['AWSALB=; Max-Age=0', 'AWSALBCORS=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT']);
    expect(jar.size).toBe(0);
  });

  it('ignores malformed headers and holds a bounded number of bounded cookies', () => {
    const jar = new Map<string, string>();
    keepCookies(jar, ['no-equals-sign', '=nameless', `big=${'x'.repeat(5000)}`]);
    expect(jar.size).toBe(0);
    keepCookies(
      jar,
      Array.from({ length: 40 }, (_, i) => `c${i}=v`),
    );
    expect(jar.size).toBe(16);
  });
});
