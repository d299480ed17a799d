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
 * overlaps the allow-list. Overlap counts in either direction, for protected ranges and the allow-list alike:
 * a /24 around an allowed address is refused, and so is a /8 that merely contains 172.16.0.0/12.
 */
export function normaliseBlockTarget(input: string, guard: IpGuardrails, allow: readonly Range[]): BlockCidr {
  const block = parseBlockTarget(input);
  guardBlockTarget(block, guard, allow, input.trim());
  return block;
}

/** The block WAF would hold for an address or CIDR, syntax only (undo needs no more). */
export function parseBlockTarget(input: string): BlockCidr {
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
  return { version, cidr: `${show(networkOf(addr, prefix))}/${prefix}`, prefix };
}

/** The guardrails of `normaliseBlockTarget` on a parsed block; `shownAs` is how errors name it. */
export function guardBlockTarget(
  block: BlockCidr,
  guard: IpGuardrails,
  allow: readonly Range[],
  shownAs: string = block.cidr,
): void {
  const text = shownAs;
  const [network, prefix] = parseRange(block.cidr)!;
  const minPrefix = block.version === 4 ? guard.minPrefixV4 : guard.minPrefixV6;
  if (prefix < minPrefix) {
    throw new ActionRefusedError(
      `${text}: prefix /${prefix} is broader than the allowed minimum /${minPrefix}`,
      { target: text },
    );
  }
  const span = spanOf(network, prefix);
  // Overlap, not the edges: a /8 can start and end in public space yet hold 172.16.0.0/12 in between.
  const hit = protectedRanges(network.kind()).find((range) => overlaps(span, range));
  if (hit) {
    throw new ActionRefusedError(
      `${text}: overlaps ${hit.cidr}, and ${hit.kind} addresses are never blocked`,
      { target: text, range: hit.kind, protected: hit.cidr },
    );
  }
  for (const [allowAddr, allowPrefix] of allow) {
    // In one address space, so `::ffff:52.1.2.9` on the allow-list also guards 52.1.2.0/24, and the reverse.
    if (overlaps(span, spanOf(allowAddr, allowPrefix))) {
      throw new ActionRefusedError(
        `${text}: overlaps the allow-list entry ${show(allowAddr)}/${allowPrefix}`,
        { target: text },
      );
    }
  }
}

/** The same address written differently (`::1/128` vs `0:0::1/128`) compares equal after this. */
export function canonicalCidr(entry: string): string | undefined {
  const range = parseRange(entry);
  if (!range) return undefined;
  const [addr, prefix] = range;
  return `${show(networkOf(addr, prefix))}/${prefix}`;
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

/** A range as inclusive bounds in one 128-bit space; IPv4 sits at ::ffff:0:0/96, where mapped addresses put it. */
interface Span {
  first: bigint;
  last: bigint;
}

interface ProtectedRange extends Span {
  /** The name `range()` gives it: `private`, `carrierGradeNat`, `uniqueLocal`, … */
  kind: string;
  cidr: string;
}

function spanOf(addr: ipaddr.IPv4 | ipaddr.IPv6, prefix: number): Span {
  const v4 = addr.kind() === 'ipv4';
  const bytes = (v4 ? (addr as ipaddr.IPv4).toIPv4MappedAddress() : addr).toByteArray();
  const value = bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
  const host = (1n << BigInt(128 - (v4 ? prefix + 96 : prefix))) - 1n;
  const first = value & ~host;
  return { first, last: first | host };
}

function overlaps(a: Span, b: Span): boolean {
  return a.first <= b.last && b.first <= a.last;
}

type SpecialRanges = Record<string, Range | Range[]>;
const protectedCache = new Map<string, ProtectedRange[]>();

/**
 * The never-block list is the table ipaddr.js's `range()` consults (everything but `unicast`), read rather
 * than copied so a single address and a CIDR are judged by the same ranges. It is missing from the typings,
 * so its absence refuses every target instead of letting them all through.
 */
function protectedRanges(kind: string): ProtectedRange[] {
  const cached = protectedCache.get(kind);
  if (cached) return cached;
  const proto = kind === 'ipv4' ? ipaddr.IPv4.prototype : ipaddr.IPv6.prototype;
  const table = (proto as unknown as { SpecialRanges?: SpecialRanges }).SpecialRanges;
  if (!table || Object.keys(table).length === 0)
    throw new ActionRefusedError(
      `cannot check targets: ipaddr.js no longer exposes its ${kind} special ranges`,
    );
  const ranges: ProtectedRange[] = [];
  for (const [name, entry] of Object.entries(table)) {
    // A name maps to one [address, prefix] pair or to a list of them, as in ipaddr.subnetMatch.
    const subnets = Array.isArray(entry[0]) ? (entry as Range[]) : [entry as Range];
    for (const [addr, prefix] of subnets) {
      ranges.push({ kind: name, cidr: `${show(addr)}/${prefix}`, ...spanOf(addr, prefix) });
    }
  }
  protectedCache.set(kind, ranges);
  return ranges;
}

function show(addr: ipaddr.IPv4 | ipaddr.IPv6): string {
  return addr.kind() === 'ipv4' ? addr.toString() : (addr as ipaddr.IPv6).toRFC5952String();
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}
