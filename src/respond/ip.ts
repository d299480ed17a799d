import ipaddr from 'ipaddr.js';
import { ActionRefusedError } from './errors.js';

/** A block target after normalisation: network address and prefix, in the form WAF stores. */
export interface BlockCidr {
  version: 4 | 6;
  /** `45.155.204.10/32`, `2a01:4f8:c17:1::/64` (RFC 5952 form). */
  cidr: string;
  prefix: number;
}

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

export interface IpGuardrails {
  minPrefixV4: number;
  minPrefixV6: number;
  allowList: readonly string[];
}

/** Parses `allowList` once; a bad entry is a config error naming the entry. */
export function parseAllowList(entries: readonly string[]): Range[] {
  return entries.map((entry) => {
    const range = parseRange(entry);
    if (!range)
      throw new ActionRefusedError(`respond.waf.allowList: "${entry}" is not an IP address or CIDR`);
    return range;
  });
}

/**
 * Turns an address or CIDR into the block WAF should hold, or refuses it. Only public unicast space can
 * be blocked: private, loopback, link-local, multicast, carrier-grade NAT, documentation and other
 * reserved ranges are refused, as are prefixes broader than the configured minimum and anything that
 * overlaps the allow-list (in either direction, so a /24 around an allowed address is refused too).
 */
export function normaliseBlockTarget(input: string, guard: IpGuardrails, allow: readonly Range[]): BlockCidr {
  const text = input.trim();
  const range = parseRange(text);
  if (!range)
    throw new ActionRefusedError(`"${truncate(text)}" is not an IP address or CIDR`, { target: text });
  let [addr, prefix] = range;
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
    prefix = Math.max(0, prefix - 96);
  }
  const version = addr.kind() === 'ipv4' ? 4 : 6;
  const minPrefix = version === 4 ? guard.minPrefixV4 : guard.minPrefixV6;
  if (prefix < minPrefix) {
    throw new ActionRefusedError(
      `${text}: prefix /${prefix} is broader than the allowed minimum /${minPrefix}`,
      { target: text },
    );
  }
  const network = networkOf(addr, prefix);
  const last = lastOf(addr, prefix);
  for (const edge of [network, last]) {
    const kind = edge.range();
    if (kind !== 'unicast') {
      throw new ActionRefusedError(`${text}: ${kind} addresses are never blocked`, {
        target: text,
        range: kind,
      });
    }
  }
  for (const [allowAddr, allowPrefix] of allow) {
    if (allowAddr.kind() !== network.kind()) continue;
    if (network.match(allowAddr, Math.min(prefix, allowPrefix))) {
      throw new ActionRefusedError(`${text}: overlaps the allow-list entry ${allowAddr}/${allowPrefix}`, {
        target: text,
      });
    }
  }
  const shown = version === 4 ? network.toString() : (network as ipaddr.IPv6).toRFC5952String();
  return { version, cidr: `${shown}/${prefix}`, prefix };
}

/** The same address written differently (`::1/128` vs `0:0::1/128`) compares equal after this. */
export function canonicalCidr(entry: string): string | undefined {
  const range = parseRange(entry);
  if (!range) return undefined;
  const [addr, prefix] = range;
  const network = networkOf(addr, prefix);
  const shown = network.kind() === 'ipv4' ? network.toString() : (network as ipaddr.IPv6).toRFC5952String();
  return `${shown}/${prefix}`;
}

function parseRange(text: string): Range | undefined {
  if (text.length > 64) return undefined;
  const [host, bits, extra] = text.split('/');
  if (extra !== undefined || !host) return undefined;
  // Strict forms only: ipaddr.parse also accepts `127.1` and hex octets, which no SIEM field should hold.
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  if (ipaddr.IPv4.isValidFourPartDecimal(host)) addr = ipaddr.IPv4.parse(host);
  else if (ipaddr.IPv6.isValid(host) && !host.includes('%')) addr = ipaddr.IPv6.parse(host);
  else return undefined;
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  if (bits === undefined) return [addr, max];
  if (!/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = Number(bits);
  return prefix <= max ? [addr, prefix] : undefined;
}

function networkOf(addr: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): ipaddr.IPv4 | ipaddr.IPv6 {
  return addr.kind() === 'ipv4'
    ? ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${prefix}`)
    : ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${prefix}`);
}

function lastOf(addr: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): ipaddr.IPv4 | ipaddr.IPv6 {
  return addr.kind() === 'ipv4'
    ? ipaddr.IPv4.broadcastAddressFromCIDR(`${addr}/${prefix}`)
    : ipaddr.IPv6.broadcastAddressFromCIDR(`${addr}/${prefix}`);
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
