import { hash } from 'node:crypto';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Transports whose flows are identified by ports (Community ID v1 uses ICMP type/code instead, which flow logs lack). */
const PORT_PROTOCOLS = new Set([6, 17, 132]);

/**
 * Community ID v1 (corelight/community-id-spec): sha1 over seed, the ordered address pair, protocol, a
 * pad byte and the ordered port pair; base64 with the `1:` version prefix. The endpoint that sorts first
 * (address bytes, then port) goes first, so both directions of a flow get the same id. This runs once per
 * flow record, so the input is assembled in one buffer and IPv4 addresses are read without a parser.
 */
export function communityId(
  srcIp: string,
  srcPort: number,
  dstIp: string,
  dstPort: number,
  protocol: number,
  seed = 0,
): string | undefined {
  if (!PORT_PROTOCOLS.has(protocol) || !validPort(srcPort) || !validPort(dstPort)) return undefined;
  const a = addressBytes(srcIp);
  const b = addressBytes(dstIp);
  if (!a || !b) return undefined;
  const order = Buffer.compare(a, b);
  const swap = order > 0 || (order === 0 && srcPort > dstPort);
  const [first, second] = swap ? [b, a] : [a, b];
  const input = Buffer.allocUnsafe(2 + first.length + second.length + 2 + 4);
  input.writeUInt16BE(seed, 0);
  first.copy(input, 2);
  second.copy(input, 2 + first.length);
  let at = 2 + first.length + second.length;
  input[at++] = protocol;
  input[at++] = 0;
  input.writeUInt16BE(swap ? dstPort : srcPort, at);
  input.writeUInt16BE(swap ? srcPort : dstPort, at + 2);
  return `1:${hash('sha1', input, 'base64')}`;
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function addressBytes(ip: string): Buffer | undefined {
  const quad = DOTTED_QUAD.exec(ip);
  if (quad) {
    const bytes = [Number(quad[1]), Number(quad[2]), Number(quad[3]), Number(quad[4])];
    // Leading zeros are not valid dotted-quad notation (isIP refuses them too).
    if (bytes.some((n, i) => n > 255 || (quad[i + 1]!.length > 1 && quad[i + 1]!.startsWith('0'))))
      return undefined;
    return Buffer.from(bytes);
  }
  if (isIP(ip) !== 6) return undefined;
  return Buffer.from(ipaddr.parse(ip).toByteArray());
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p <= 65535;
}
