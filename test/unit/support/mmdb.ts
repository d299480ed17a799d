import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ipaddr from 'ipaddr.js';

/**
 * A small MaxMind DB writer (binary format 2.0), for tests only: it builds GeoLite2-shaped databases so the
 * real `maxmind` reader can be exercised without MaxMind's files. Written from the public "MaxMind DB File
 * Format Specification". A file is three sections:
 *
 *   search tree | 16 zero bytes | data section | "\xAB\xCD\xEFMaxMind.com" metadata map
 *
 * Simplifications, all allowed by the spec: records are always 24 bits (so at most ~16M nodes + data bytes),
 * the data section holds no pointers or cache containers (each distinct `data` object is encoded once and
 * every network using it points at that offset), and there is no end marker.
 */

/** A number with an explicit MaxMind type; plain numbers are inferred (see `encode`). */
export class MmdbNumber {
  constructor(
    readonly type: 'uint16' | 'uint32' | 'uint64' | 'int32' | 'double' | 'float',
    readonly value: number | bigint,
  ) {}
}
export const uint16 = (n: number) => new MmdbNumber('uint16', n);
export const uint32 = (n: number) => new MmdbNumber('uint32', n);
export const uint64 = (n: number | bigint) => new MmdbNumber('uint64', n);
export const int32 = (n: number) => new MmdbNumber('int32', n);
export const double = (n: number) => new MmdbNumber('double', n);
export const float = (n: number) => new MmdbNumber('float', n);

export interface MmdbNetwork {
  /** `a.b.c.d/n`, or (ipVersion 6 only) an IPv6 CIDR. IPv4 networks go under `::/96` in an IPv6 tree. */
  cidr: string;
  data: Record<string, unknown>;
}

export interface MmdbOptions {
  databaseType: string;
  /**
   * 4: a 32-bit tree. 6: a 128-bit tree with IPv4 at `::a.b.c.d`, plus MaxMind's aliases of
   * `::ffff:0:0/96` (IPv4-mapped) and `2002::/16` (6to4) to that IPv4 subtree. The aliases are added last
   * and replace anything the networks put there.
   */
  ipVersion: 4 | 6;
  /** Most specific wins where networks nest, whatever the order given. */
  networks: MmdbNetwork[];
  languages?: string[];
  /** English description (metadata `description.en`). */
  description?: string;
  /** Seconds since the Unix epoch; defaults to now. */
  buildEpoch?: number;
}

/** Data-section type numbers (spec, "Output Data Section"). Numbers above 7 are "extended" types. */
const TYPE = {
  string: 2,
  double: 3,
  bytes: 4,
  uint16: 5,
  uint32: 6,
  map: 7,
  int32: 8,
  uint64: 9,
  uint128: 10,
  array: 11,
  boolean: 14,
  float: 15,
} as const;

const RECORD_BYTES = 3; // 24-bit records: a node is two big-endian 3-byte records
const SEPARATOR = Buffer.alloc(16); // the 16 NUL bytes between tree and data section
const METADATA_MARKER = Buffer.concat([Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com')]);

/**
 * Control byte(s) of a field: the top 3 bits are the type (0 = extended: the next byte holds type - 7), the
 * low 5 bits the size. Sizes 0-28 fit the 5 bits; 29, 30 and 31 mean "29 + 1 byte", "285 + 2 bytes" and
 * "65,821 + 3 bytes" follow, after any extended-type byte. For maps and arrays the size counts entries.
 */
function header(type: number, size: number): Buffer {
  let sizeBits: number;
  let sizeExtra: number[];
  if (size < 29) [sizeBits, sizeExtra] = [size, []];
  else if (size < 285) [sizeBits, sizeExtra] = [29, bigEndian(size - 29, 1)];
  else if (size < 65_821) [sizeBits, sizeExtra] = [30, bigEndian(size - 285, 2)];
  else if (size < 16_843_037) [sizeBits, sizeExtra] = [31, bigEndian(size - 65_821, 3)];
  else throw new RangeError(`MMDB field too large: ${size}`);
  const extended = type > 7;
  return Buffer.from([
    ((extended ? 0 : type) << 5) | sizeBits,
    ...(extended ? [type - 7] : []),
    ...sizeExtra,
  ]);
}

function bigEndian(n: number, width: number): number[] {
  return Array.from({ length: width }, (_, i) => (n >>> (8 * (width - 1 - i))) & 0xff);
}

/** Unsigned integers are stored in as few big-endian bytes as they need; size 0 means the value 0. */
function unsigned(type: number, value: number | bigint, maxBytes: number): Buffer {
  let v = BigInt(value);
  if (v < 0n || v >= 1n << BigInt(8 * maxBytes))
    throw new RangeError(`${value} does not fit MMDB type ${type}`);
  const bytes: number[] = [];
  for (; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  return Buffer.concat([header(type, bytes.length), Buffer.from(bytes)]);
}

function fixed(type: number, write: (b: Buffer) => void, size: number): Buffer {
  const payload = Buffer.alloc(size);
  write(payload);
  return Buffer.concat([header(type, size), payload]);
}

/**
 * Encodes one value. Plain numbers: integers 0..2^32-1 become uint32, anything else finite a double (wrap in
 * `uint16()`/`double()`/... to choose); bigints become uint64 or uint128; Uint8Arrays bytes.
 */
export function encode(value: unknown): Buffer {
  if (value instanceof MmdbNumber) {
    const v = value.value;
    switch (value.type) {
      case 'uint16':
        return unsigned(TYPE.uint16, v, 2);
      case 'uint32':
        return unsigned(TYPE.uint32, v, 4);
      case 'uint64':
        return unsigned(TYPE.uint64, v, 8);
      case 'int32': // always 4 bytes of two's complement, which every reader accepts
        return fixed(TYPE.int32, (b) => b.writeInt32BE(Number(v)), 4);
      case 'double':
        return fixed(TYPE.double, (b) => b.writeDoubleBE(Number(v)), 8);
      case 'float':
        return fixed(TYPE.float, (b) => b.writeFloatBE(Number(v)), 4);
    }
  }
  if (typeof value === 'string') {
    const utf8 = Buffer.from(value, 'utf8'); // the size is in bytes, not characters ("Linköping" is 10)
    return Buffer.concat([header(TYPE.string, utf8.length), utf8]);
  }
  if (typeof value === 'boolean') return header(TYPE.boolean, value ? 1 : 0); // the size is the value
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= 0xffff_ffff) return unsigned(TYPE.uint32, value, 4);
    if (Number.isFinite(value)) return encode(double(value));
  }
  if (typeof value === 'bigint') {
    return value < 1n << 64n ? unsigned(TYPE.uint64, value, 8) : unsigned(TYPE.uint128, value, 16);
  }
  if (value instanceof Uint8Array) return Buffer.concat([header(TYPE.bytes, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([header(TYPE.array, value.length), ...value.map(encode)]);
  if (isPlainObject(value)) {
    // A map is its pair count, then key (always a UTF-8 string), value, key, value, ...
    const entries = Object.entries(value);
    return Buffer.concat([
      header(TYPE.map, entries.length),
      ...entries.flatMap(([k, v]) => [encode(k), encode(v)]),
    ]);
  }
  throw new TypeError(`No MMDB encoding for ${String(value)}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A search-tree record: another node, an offset into the data section, or `undefined` for "no data". */
type Rec = TreeNode | number | undefined;
class TreeNode {
  rec: [Rec, Rec] = [undefined, undefined]; // [bit 0 (left), bit 1 (right)]
}

const bitAt = (bytes: number[], i: number) => ((bytes[i >> 3]! >> (7 - (i & 7))) & 1) as 0 | 1;

/**
 * Sets the record for the first `prefix` bits of `bytes` to `value`. Walking through a record that is data
 * (or empty) splits it into a node whose two records both keep that data, so a nested, more specific network
 * only overrides its own part of the wider one.
 */
function place(root: TreeNode, bytes: number[], prefix: number, value: Rec): void {
  if (prefix < 1) throw new RangeError('MMDB networks need a prefix length of at least 1');
  let node = root;
  for (let i = 0; i < prefix - 1; i++) {
    const b = bitAt(bytes, i);
    let next = node.rec[b];
    if (!(next instanceof TreeNode)) {
      const split = new TreeNode();
      split.rec = [next, next];
      node.rec[b] = split;
      next = split;
    }
    node = next;
  }
  node.rec[bitAt(bytes, prefix - 1)] = value;
}

/** Network bytes and prefix length in the tree's address space (IPv4 sits under `::/96` in an IPv6 tree). */
function treeNetwork(cidr: string, ipVersion: 4 | 6): [number[], number] {
  const [addr, prefix] = ipaddr.parseCIDR(cidr);
  if (addr.kind() === 'ipv4') {
    return ipVersion === 4
      ? [addr.toByteArray(), prefix]
      : [[...Array(12).fill(0), ...addr.toByteArray()], prefix + 96];
  }
  if (ipVersion === 4) throw new RangeError(`IPv6 network ${cidr} in an ip_version 4 database`);
  return [addr.toByteArray(), prefix];
}

/** Builds a complete .mmdb file. */
export function writeMmdb(options: MmdbOptions): Buffer {
  const { ipVersion } = options;

  // Data section: each distinct data object once, in first-use order.
  const chunks: Buffer[] = [];
  const offsets = new Map<object, number>();
  let dataSize = 0;
  const offsetOf = (data: object): number => {
    const known = offsets.get(data);
    if (known !== undefined) return known;
    const bytes = encode(data);
    offsets.set(data, dataSize);
    chunks.push(bytes);
    dataSize += bytes.length;
    return dataSize - bytes.length;
  };

  // Tree: wider networks first, so narrower ones split them rather than being overwritten.
  const root = new TreeNode();
  const placed = options.networks
    .map((n) => ({ net: treeNetwork(n.cidr, ipVersion), data: n.data }))
    .sort((a, b) => a.net[1] - b.net[1]);
  for (const { net, data } of placed) place(root, net[0], net[1], offsetOf(data));

  if (ipVersion === 6) {
    // MaxMind's IPv6 databases point ::ffff:0:0/96 and 2002::/16 at the IPv4 subtree (whatever ::/96 holds).
    let ipv4: Rec = root;
    for (let i = 0; i < 96 && ipv4 instanceof TreeNode; i++) ipv4 = ipv4.rec[0];
    if (ipv4 !== undefined) {
      place(root, ipaddr.parse('::ffff:0:0').toByteArray(), 96, ipv4);
      place(root, ipaddr.parse('2002::').toByteArray(), 16, ipv4);
    }
  }

  // Number the nodes breadth-first from the root (which must be node 0); aliased nodes are numbered once.
  const numbers = new Map<TreeNode, number>([[root, 0]]);
  const order = [root];
  for (let i = 0; i < order.length; i++) {
    for (const r of order[i]!.rec) {
      if (r instanceof TreeNode && !numbers.has(r)) {
        numbers.set(r, order.length);
        order.push(r);
      }
    }
  }
  const nodeCount = order.length;

  // A record value < node_count is a node, == node_count is "not found", and node_count + 16 + offset is data
  // (the reader subtracts node_count and the separator's 16 bytes to get the data-section offset).
  const recordValue = (r: Rec): number =>
    r instanceof TreeNode ? numbers.get(r)! : r === undefined ? nodeCount : nodeCount + SEPARATOR.length + r;
  const tree = Buffer.alloc(nodeCount * 2 * RECORD_BYTES);
  order.forEach((node, i) => {
    node.rec.forEach((r, side) => {
      const value = recordValue(r);
      if (value >= 2 ** 24) throw new RangeError('MMDB too large for 24-bit records');
      tree.writeUIntBE(value, (2 * i + side) * RECORD_BYTES, RECORD_BYTES);
    });
  });

  const metadata = encode({
    binary_format_major_version: uint16(2),
    binary_format_minor_version: uint16(0),
    build_epoch: uint64(options.buildEpoch ?? Math.floor(Date.now() / 1000)),
    database_type: options.databaseType,
    description: { en: options.description ?? `${options.databaseType} test database` },
    ip_version: uint16(ipVersion),
    languages: options.languages ?? ['en'],
    node_count: uint32(nodeCount),
    record_size: uint16(RECORD_BYTES * 8),
  });

  return Buffer.concat([tree, SEPARATOR, ...chunks, METADATA_MARKER, metadata]);
}

/**
 * A GeoLite2-City and a GeoLite2-ASN database (IPv6 trees, as MaxMind ships them) with one network each,
 * written into `dir`; their paths, as `mapping.geoip` takes them.
 */
export function writeGeoDatabases(
  dir: string,
  cidr: string,
  data: { city: Record<string, unknown>; asn: Record<string, unknown> },
): { city: string; asn: string } {
  const paths = { city: join(dir, 'city.mmdb'), asn: join(dir, 'asn.mmdb') };
  writeFileSync(
    paths.city,
    writeMmdb({ databaseType: 'GeoLite2-City', ipVersion: 6, networks: [{ cidr, data: data.city }] }),
  );
  writeFileSync(
    paths.asn,
    writeMmdb({ databaseType: 'GeoLite2-ASN', ipVersion: 6, networks: [{ cidr, data: data.asn }] }),
  );
  return paths;
}
