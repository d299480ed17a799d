import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { ActionRefusedError } from '../../../src/respond/errors.js';
import { normaliseBlockTarget } from '../../../src/respond/ip.js';

const guard = { minPrefixV4: 24, minPrefixV6: 64, allowList: [] };

function refused(target: string, allow: [string, number][] = []): string {
  try {
    const parsed = allow.map(([cidr]) => cidr);
    normaliseBlockTarget(target, { ...guard, allowList: parsed }, parsedAllow(parsed));
  } catch (err) {
    expect(err).toBeInstanceOf(ActionRefusedError);
    return (err as Error).message;
  }
  throw new Error(`${target} was not refused`);
}

function parsedAllow(list: string[]) {
  return list.map((c) => ipaddr.parseCIDR(c));
}

describe('normaliseBlockTarget', () => {
  it('normalises a single address to /32 and /128', () => {
    expect(normaliseBlockTarget('45.155.204.10', guard, []).cidr).toBe('45.155.204.10/32');
    expect(normaliseBlockTarget(' 2a01:4f8:c17:1:0:0:0:5 ', guard, []).cidr).toBe('2a01:4f8:c17:1::5/128');
  });

  it('turns an IPv4-mapped IPv6 address into the IPv4 block', () => {
    expect(normaliseBlockTarget('::ffff:45.155.204.10', guard, [])).toMatchObject({
      version: 4,
      cidr: '45.155.204.10/32',
    });
  });

  it('masks host bits of a CIDR within the allowed minimum', () => {
    expect(normaliseBlockTarget('45.155.204.77/24', guard, []).cidr).toBe('45.155.204.0/24');
  });

  it.each([
    ['10.1.2.3', 'private'],
    ['192.168.10.20', 'private'],
    ['127.0.0.1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.1.1', 'carrierGradeNat'],
    ['203.0.113.9', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['::1', 'loopback'],
    ['fe80::1', 'linkLocal'],
    ['fd00::1', 'uniqueLocal'],
    ['2001:db8::1', 'reserved'],
  ])('refuses %s (%s)', (target, kind) => {
    expect(refused(target)).toContain(kind);
  });

  it('refuses prefixes broader than the minimum, and /0 always', () => {
    expect(refused('0.0.0.0/0')).toContain('broader');
    expect(refused('45.155.0.0/16')).toContain('/16 is broader than the allowed minimum /24');
    expect(refused('::/0')).toContain('broader');
  });

  it('refuses a CIDR that straddles a private range even when its network address is public', () => {
    // 172.0.0.0/11 starts in public space and ends inside 172.16.0.0/12.
    expect(() => normaliseBlockTarget('172.15.0.0/11', { ...guard, minPrefixV4: 8 }, [])).toThrow(/private/);
  });

  it('refuses addresses that overlap the allow-list, in either direction', () => {
    expect(refused('52.1.2.3', [['52.1.2.0/24', 24]])).toContain('allow-list');
    expect(refused('52.1.2.0/24', [['52.1.2.9/32', 32]])).toContain('allow-list');
    expect(normaliseBlockTarget('52.1.3.1', guard, parsedAllow(['52.1.2.0/24'])).cidr).toBe('52.1.3.1/32');
  });

  it.each([
    '',
    'not-an-ip',
    '127.1',
    '0x7f.0.0.1',
    '1.2.3.4/33',
    '1.2.3.4/24/1',
    'fe80::1%eth0',
    `${'1'.repeat(100)}`,
  ])('refuses malformed input %j', (target) => {
    expect(refused(target)).toMatch(/not an IP address|broader|linkLocal/);
  });
});
