import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Transports whose flows are identified by ports (Community ID v1 uses ICMP type/code instead, which flow logs lack). */
const PORT_PROTOCOLS = new Set([6, 17, 132]);

/**
 * Community ID v1 (corelight/community-id-spec): sha1 over seed, the ordered address pair, protocol, a
 * pad byte and the ordered port pair; base64 with the `1:` version prefix. The endpoint that sorts first
 * (address bytes, then port) goes first, so both directions of a flow get the same id.
 */
export function communityId(
  srcIp: string,
  srcPort: number,
  dstIp: string,
  dstPort: number,
  protocol: number,
  seed = 0,
): string | undefined {
  if (!PORT_PROTOCOLS.has(protocol) || isIP(srcIp) === 0 || isIP(dstIp) === 0) return undefined;
  if (!validPort(srcPort) || !validPort(dstPort)) return undefined;
  let a = Buffer.from(ipaddr.parse(srcIp).toByteArray());
  let b = Buffer.from(ipaddr.parse(dstIp).toByteArray());
  let pa = srcPort;
  let pb = dstPort;
  const order = Buffer.compare(a, b);
  if (order > 0 || (order === 0 && pa > pb)) {
    [a, b] = [b, a];
    [pa, pb] = [pb, pa];
  }
  const head = Buffer.alloc(2);
  head.writeUInt16BE(seed);
  const mid = Buffer.from([protocol, 0]);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(pa, 0);
  ports.writeUInt16BE(pb, 2);
  const digest = createHash('sha1')
    .update(head)
    .update(a)
    .update(b)
    .update(mid)
    .update(ports)
    .digest('base64');
  return `1:${digest}`;
}

function validPort(p: number): boolean {
  return Number.isInteger(p) && p >= 0 && p <= 65535;
}
