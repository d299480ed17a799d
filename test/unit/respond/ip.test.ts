import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { ActionRefusedError } from '../../../src/respond/errors.js';
import { normaliseBlockTarget, parseAllowList } from '../../../src/respond/ip.js';

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

// The broadest prefixes the config allows: wide enough for a block to span several protected ranges.
const loose = { minPrefixV4: 8, minPrefixV6: 16, allowList: [] };

function refusedLoose(target: string, allowList: string[] = []): string {
  try {
    normaliseBlockTarget(target, { ...loose, allowList }, parseAllowList(allowList));
  } catch (err) {
    expect(err).toBeInstanceOf(ActionRefusedError);
    return (err as Error).message;
  }
  throw new Error(`${target} was not refused`);
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

  describe('with the loosest prefixes, refuses any overlap with a protected range, not just at the edges', () => {
    it.each([
      // Both edges of each are public unicast; the protected range lies inside.
      ['172.0.0.0/8', 'private', '172.16.0.0/12'],
      ['100.0.0.0/8', 'carrierGradeNat', '100.64.0.0/10'],
      ['198.0.0.0/8', 'reserved', '198.18.0.0/15'],
      ['2620::/16', 'as112v6', '2620:4f:8000::/48'],
      ['64::/16', 'rfc6052', '64:ff9b::/96'],
      // Contained by a protected range.
      ['fd12::/16', 'uniqueLocal', 'fc00::/7'],
      ['10.20.0.0/16', 'private', '10.0.0.0/8'],
    ])('refuses %s, naming the %s range %s', (target, kind, cidr) => {
      const message = refusedLoose(target);
      expect(message).toContain(kind);
      expect(message).toContain(cidr);
    });

    it('names the protected range for a single address too', () => {
      expect(refused('10.1.2.3')).toContain('10.0.0.0/8');
    });

    it.each([
      ['172.15.255.0/24', '172.15.255.0/24'], // ends just below 172.16.0.0/12
      ['172.32.0.0/24', '172.32.0.0/24'], // starts just above it
      ['172.32.0.0/11', '172.32.0.0/11'],
      ['100.63.255.0/24', '100.63.255.0/24'], // either side of 100.64.0.0/10
      ['100.128.0.0/24', '100.128.0.0/24'],
      ['2620:4f:7fff::/48', '2620:4f:7fff::/48'], // beside 2620:4f:8000::/48
      ['2a01::/16', '2a01::/16'],
    ])('still accepts %s, next to but outside protected space', (target, cidr) => {
      expect(normaliseBlockTarget(target, loose, []).cidr).toBe(cidr);
    });
  });

  describe('allow-list overlap', () => {
    it('refuses a wide range that holds one allow-listed address in its interior', () => {
      expect(refusedLoose('52.0.0.0/8', ['52.1.2.9'])).toContain('allow-list entry 52.1.2.9/32');
      expect(refusedLoose('2a01:4f8::/32', ['2a01:4f8:c17:1::5'])).toContain(
        'allow-list entry 2a01:4f8:c17:1::5/128',
      );
    });

    it('compares IPv4-mapped allow-list entries with IPv4 targets, and the reverse', () => {
      expect(refusedLoose('52.1.0.0/16', ['::ffff:52.1.2.9'])).toContain('allow-list');
      expect(refusedLoose('52.1.2.0/24', ['::ffff:52.1.2.0/120'])).toContain('allow-list');
      expect(refusedLoose('::ffff:52.1.2.0/120', ['52.1.2.9'])).toContain('allow-list');
    });

    it('accepts a range beside an allow-listed one', () => {
      const allowList = ['52.1.2.0/24', '::ffff:52.1.4.9'];
      const allow = parseAllowList(allowList);
      expect(normaliseBlockTarget('52.1.3.0/24', { ...loose, allowList }, allow).cidr).toBe('52.1.3.0/24');
      expect(normaliseBlockTarget('52.1.1.255', { ...loose, allowList }, allow).cidr).toBe('52.1.1.255/32');
    });
  });
});
