import { hash } from 'node:crypto';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

const ICMP = 1;
const TCP = 6;
const UDP = 17;
const ICMP6 = 58;
const SCTP = 132;

/**
 * ICMP message types that have a counterpart (request ↔ reply, solicitation ↔ advertisement): Zeek's
 * table, which the Community ID spec adopts (pycommunityid's icmp.py and icmp6.py). A message with a
 * counterpart is two-way: its type and the counterpart's stand in for the ports, so request and reply
 * order into one flow. Any other type is one-way: type and code stand in for the ports and the endpoints
 * are never reordered. Indexed by type; -1 where there is no counterpart.
 */
const ICMP4_COUNTERPART = counterparts([
  [8, 0], // echo request, echo reply
  [13, 14], // timestamp
  [15, 16], // information
  [10, 9], // router solicitation, advertisement
  [17, 18], // address mask
]);
const ICMP6_COUNTERPART = counterparts([
  [128, 129], // echo request, echo reply
  [130, 131], // multicast listener query, report
  [133, 134], // router solicitation, advertisement
  [135, 136], // neighbor solicitation, advertisement
  [139, 140], // who-are-you request, reply
  [144, 145], // home agent address discovery request, reply
]);

function counterparts(pairs: readonly [number, number][]): Int16Array {
  const table = new Int16Array(256).fill(-1);
  for (const [a, b] of pairs) {
    table[a] = b;
    table[b] = a;
  }
  return table;
}

/**
 * Scratch space reused by every call (the hashing is synchronous, so calls never overlap): the two
 * addresses as parsed, and the hash input (2-byte seed, two addresses of up to 16 bytes, protocol and pad
 * byte, two 2-byte ports).
 */
const addressA = Buffer.alloc(16);
const addressB = Buffer.alloc(16);
const input = Buffer.alloc(2 + 16 + 16 + 2 + 4);

/**
 * Community ID v1 (corelight/community-id-spec): base64 of the sha1 of seed, the ordered address pair,
 * protocol, a pad byte and, for TCP/UDP/SCTP/ICMP/ICMPv6, the ordered port pair; with the `1:` version
 * prefix. The numerically smaller address (then port) goes first, so both directions of a flow get the
 * same id.
 *
 * For ICMP (1) and ICMPv6 (58), `srcPort` and `dstPort` carry the ICMP type and code (the spec's
 * convention): a type with a counterpart hashes (type, counterpart) and orders as a two-way flow; any
 * other type hashes (type, code) in the direction given. For protocols without ports (GRE, ESP, ...) the
 * ports are ignored and only the addresses and protocol are hashed.
 *
 * Undefined when an address is not an IP, the protocol is not 0–255, or a port (type/code) the protocol
 * uses is not 0–65535. Addresses are compared as numbers, as the spec says and as Elastic's processor
 * does (which matters only for an IPv4/IPv6 pair), and an IPv4-mapped IPv6 address hashes as its IPv4
 * address (Java's InetAddress, which Elastic uses, reads it so). This runs once per flow record: the
 * input is assembled in one reused buffer and IPv4 addresses are read without a parser.
 */
export function communityId(
  srcIp: string,
  srcPort: number,
  dstIp: string,
  dstPort: number,
  protocol: number,
  seed = 0,
): string | undefined {
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) return undefined;
  let hasPorts = false;
  let oneWay = false;
  if (protocol === TCP || protocol === UDP || protocol === SCTP) {
    if (!validPort(srcPort) || !validPort(dstPort)) return undefined;
    hasPorts = true;
  } else if (protocol === ICMP || protocol === ICMP6) {
    if (!validPort(srcPort) || !validPort(dstPort)) return undefined;
    hasPorts = true;
    const counterpart =
      srcPort > 255 ? -1 : (protocol === ICMP ? ICMP4_COUNTERPART : ICMP6_COUNTERPART)[srcPort]!;
    if (counterpart < 0) oneWay = true;
    else dstPort = counterpart;
  }
  const aLength = addressBytes(srcIp, addressA);
  if (aLength === 0) return undefined;
  const bLength = addressBytes(dstIp, addressB);
  if (bLength === 0) return undefined;

  let swap = false;
  if (!oneWay) {
    const order = compareAddresses(addressA, aLength, addressB, bLength);
    // Equal addresses: the ports decide (ignored, hence equal, for protocols without them).
    swap = order > 0 || (order === 0 && !(hasPorts && srcPort < dstPort));
  }
  input.writeUInt16BE(seed, 0);
  let at = 2;
  if (swap) {
    at += addressB.copy(input, at, 0, bLength);
    at += addressA.copy(input, at, 0, aLength);
  } else {
    at += addressA.copy(input, at, 0, aLength);
    at += addressB.copy(input, at, 0, bLength);
  }
  input[at++] = protocol;
  input[at++] = 0;
  if (hasPorts) {
    input.writeUInt16BE(swap ? dstPort : srcPort, at);
    input.writeUInt16BE(swap ? srcPort : dstPort, at + 2);
    at += 4;
  }
  return `1:${hash('sha1', input.subarray(0, at), 'base64')}`;
}

/**
 * `network.community_id` as Elastic's `community_id` ingest processor (Elasticsearch CommunityIdProcessor,
 * default fields, seed 0) sets it on a document of its AWS VPC flow pipeline; undefined where it sets
 * nothing. That pipeline never sets `icmp.type`/`icmp.code`, and the processor reads a missing type and
 * code as 0 (whatever the record has in its port fields, which AWS fills with 0 for ICMP), so ICMP hashes
 * as an echo reply (type 0, counterpart 8) and ICMPv6 as the one-way type 0, code 0. TCP, UDP and SCTP
 * need both ports in 1–65535 (a missing port reads as 0, which the processor refuses); protocol numbers
 * above 254 are refused; every other protocol hashes addresses and protocol only.
 */
export function elasticCommunityId(
  srcIp: string,
  srcPort: number | undefined,
  dstIp: string,
  dstPort: number | undefined,
  protocol: number,
): string | undefined {
  if (protocol === 255) return undefined;
  if (protocol === TCP || protocol === UDP || protocol === SCTP) {
    if (srcPort === undefined || dstPort === undefined || srcPort < 1 || dstPort < 1) return undefined;
    return communityId(srcIp, srcPort, dstIp, dstPort, protocol);
  }
  return communityId(srcIp, 0, dstIp, 0, protocol);
}

/** Writes the address's bytes (4 for IPv4, IPv4-mapped IPv6 included; 16 for IPv6) and returns their count, or 0. */
function addressBytes(ip: string, target: Buffer): number {
  const v4 = dottedQuad(ip, target);
  if (v4 !== 0) return v4;
  if (isIP(ip) !== 6) return 0;
  const bytes = ipaddr.parse(ip).toByteArray();
  let mapped = bytes[10] === 0xff && bytes[11] === 0xff;
  for (let i = 0; mapped && i < 10; i++) mapped = bytes[i] === 0;
  const from = mapped ? 12 : 0;
  for (let i = from; i < 16; i++) target[i - from] = bytes[i]!;
  return 16 - from;
}

/** A dotted quad (no leading zeros, which isIP and Elastic refuse too) into `target`: 4, or 0 if it is not one. */
function dottedQuad(ip: string, target: Buffer): number {
  const length = ip.length;
  if (length < 7 || length > 15) return 0;
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= length; i++) {
    const c = i === length ? 46 : ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 3) return 0;
      target[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return 0;
      value = value * 10 + (c - 48);
      if (++digits > 3 || value > 255) return 0;
    } else {
      return 0;
    }
  }
  return part === 4 ? 4 : 0;
}

/** Compares two addresses as unsigned numbers (so a 4-byte one is below any 16-byte one above 2^32). */
function compareAddresses(a: Buffer, aLength: number, b: Buffer, bLength: number): number {
  if (aLength === bLength) return a.compare(b, 0, bLength, 0, aLength);
  // One IPv4, one IPv6: the IPv6 one is larger unless its first 12 bytes are zero.
  const long = aLength > bLength ? a : b;
  const sign = aLength > bLength ? 1 : -1;
  for (let i = 0; i < 12; i++) if (long[i] !== 0) return sign;
  return sign * long.compare(long === a ? b : a, 0, 4, 12, 16);
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p <= 65535;
}
