import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import maxmind, { Reader } from 'maxmind';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGeoIp } from '../../../../src/map/ecs/geoip.js';
import type { GeoIpLookup } from '../../../../src/map/ecs/types.js';
import {
  double,
  float,
  int32,
  type MmdbNetwork,
  uint16,
  uint32,
  uint64,
  writeMmdb,
} from '../../support/mmdb.js';

// GeoLite2-shaped records (the fields and types MaxMind's City and ASN databases use).
const europe = { code: 'EU', geoname_id: uint32(6255148), names: { de: 'Europa', en: 'Europe' } };
const sweden = {
  geoname_id: uint32(2661886),
  is_in_european_union: true,
  iso_code: 'SE',
  names: { de: 'Schweden', en: 'Sweden' },
};
const unitedKingdom = { geoname_id: uint32(2635167), iso_code: 'GB', names: { en: 'United Kingdom' } };
const linkoping = {
  city: { geoname_id: uint32(2694762), names: { de: 'Linköping', en: 'Linköping' } },
  continent: europe,
  country: sweden,
  location: {
    accuracy_radius: uint16(76),
    latitude: double(58.4167),
    longitude: double(15.6167),
    time_zone: 'Europe/Stockholm',
  },
  registered_country: sweden,
  subdivisions: [{ geoname_id: uint32(2685867), iso_code: 'E', names: { en: 'Östergötland County' } }],
};
const boxford = {
  city: { geoname_id: uint32(2655045), names: { en: 'Boxford' } },
  continent: europe,
  country: unitedKingdom,
  location: {
    accuracy_radius: uint16(100),
    latitude: double(51.75),
    longitude: double(-1.25),
    time_zone: 'Europe/London',
  },
  postal: { code: 'OX1' },
  registered_country: unitedKingdom,
  subdivisions: [
    { geoname_id: uint32(6269131), iso_code: 'ENG', names: { en: 'England' } },
    { geoname_id: uint32(3333217), iso_code: 'WBK', names: { en: 'West Berkshire' } },
  ],
};

// The /24 is listed before the /16 that contains it: the more specific network must still win.
const cityNetworks: MmdbNetwork[] = [
  { cidr: '89.160.20.0/24', data: linkoping },
  { cidr: '89.160.0.0/16', data: { continent: europe, country: sweden, registered_country: sweden } },
  { cidr: '2.125.160.0/24', data: boxford },
];
const asnNetworks: MmdbNetwork[] = [
  {
    cidr: '89.160.0.0/16',
    data: { autonomous_system_number: uint32(29518), autonomous_system_organization: 'Bredband2 AB' },
  },
  {
    cidr: '2.125.160.0/24',
    data: { autonomous_system_number: uint32(5607), autonomous_system_organization: 'Sky UK Limited' },
  },
  {
    cidr: '1.128.0.0/11',
    data: { autonomous_system_number: uint32(1221), autonomous_system_organization: 'Telstra Pty Ltd' },
  },
  { cidr: '203.0.113.0/24', data: { autonomous_system_number: uint32(64496) } },
];
const v6Only = { cidr: '2001:db8::/32', data: { autonomous_system_number: uint32(64497) } };

const BUILD_EPOCH = 1_700_000_000;
const build = (databaseType: string, ipVersion: 4 | 6, networks: MmdbNetwork[]) =>
  writeMmdb({
    databaseType,
    ipVersion,
    networks,
    buildEpoch: BUILD_EPOCH,
    description: `${databaseType} test`,
  });

const linkopingGeo = {
  city_name: 'Linköping',
  continent_name: 'Europe',
  country_iso_code: 'SE',
  country_name: 'Sweden',
  location: { lat: 58.4167, lon: 15.6167 },
  region_iso_code: 'SE-E',
  region_name: 'Östergötland County',
};
const boxfordGeo = {
  city_name: 'Boxford',
  continent_name: 'Europe',
  country_iso_code: 'GB',
  country_name: 'United Kingdom',
  location: { lat: 51.75, lon: -1.25 },
  region_iso_code: 'GB-ENG',
  region_name: 'England',
};
const swedenGeo = { continent_name: 'Europe', country_iso_code: 'SE', country_name: 'Sweden' };
const bredband2 = { number: 29518, organization: { name: 'Bredband2 AB' } };

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'asc-geoip-'));
  for (const v of [4, 6] as const) {
    await writeFile(join(dir, `city-v${v}.mmdb`), build('GeoLite2-City', v, cityNetworks));
    await writeFile(
      join(dir, `asn-v${v}.mmdb`),
      build('GeoLite2-ASN', v, v === 6 ? [...asnNetworks, v6Only] : asnNetworks),
    );
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each([4, 6] as const)('openGeoIp over ip_version %i databases', (v) => {
  let both: GeoIpLookup;
  beforeAll(async () => {
    both = await openGeoIp({ city: join(dir, `city-v${v}.mmdb`), asn: join(dir, `asn-v${v}.mmdb`) });
  });

  it('maps city, region, country, continent, location and AS to ECS fields', () => {
    expect(both.lookup('89.160.20.5')).toEqual({ geo: linkopingGeo, as: bredband2 });
    expect(both.lookup('2.125.160.216')).toEqual({
      geo: boxfordGeo,
      as: { number: 5607, organization: { name: 'Sky UK Limited' } },
    });
  });

  it('falls back to the enclosing network and leaves out what it lacks', () => {
    expect(both.lookup('89.160.99.1')).toEqual({ geo: swedenGeo, as: bredband2 });
    expect(both.lookup('1.130.0.1')).toEqual({
      as: { number: 1221, organization: { name: 'Telstra Pty Ltd' } },
    });
    expect(both.lookup('203.0.113.7')).toEqual({ as: { number: 64496 } });
  });

  it('yields nothing for an address outside every network', () => {
    for (const ip of ['10.0.0.1', '89.161.0.1', '2.125.161.0', '1.127.255.255']) {
      expect(both.lookup(ip)).toBeUndefined();
    }
  });

  it('works with only a city or only an ASN database', async () => {
    const city = await openGeoIp({ city: join(dir, `city-v${v}.mmdb`) });
    const asn = await openGeoIp({ asn: join(dir, `asn-v${v}.mmdb`) });
    expect(city.lookup('89.160.20.5')).toEqual({ geo: linkopingGeo });
    expect(asn.lookup('89.160.20.5')).toEqual({ as: bredband2 });
    expect(city.lookup('1.130.0.1')).toBeUndefined();
    expect(asn.lookup('10.0.0.1')).toBeUndefined();
    expect((await openGeoIp({})).lookup('89.160.20.5')).toBeUndefined();
  });
});

describe('openGeoIp over ip_version 6 databases', () => {
  it('finds IPv4 through the IPv4-mapped and 6to4 aliases, and native IPv6 networks', async () => {
    const geoip = await openGeoIp({ city: join(dir, 'city-v6.mmdb'), asn: join(dir, 'asn-v6.mmdb') });
    expect(geoip.lookup('::ffff:89.160.20.5')).toEqual({ geo: linkopingGeo, as: bredband2 });
    expect(geoip.lookup('2002:59a0:1405::1')).toEqual({ geo: linkopingGeo, as: bredband2 }); // 89.160.20.5
    expect(geoip.lookup('2001:db8::1')).toEqual({ as: { number: 64497 } });
    expect(geoip.lookup('2001:db9::1')).toBeUndefined();
    expect(geoip.lookup('::1')).toBeUndefined();
  });
});

describe('openGeoIp over ip_version 4 databases', () => {
  it('answers nothing for an IPv6 address, which the reader would walk as IPv4 bits', async () => {
    // 2001:db8::1 starts with the bits of 32.1.13.184; a network there must not claim it.
    const path = join(dir, 'v4-32.mmdb');
    await writeFile(
      path,
      build('GeoLite2-ASN', 4, [{ cidr: '32.0.0.0/8', data: { autonomous_system_number: uint32(64511) } }]),
    );
    const geoip = await openGeoIp({ asn: path });
    expect(geoip.lookup('32.1.13.184')).toEqual({ as: { number: 64511 } });
    expect(geoip.lookup('2001:db8::1')).toBeUndefined();
  });
});

describe('the test MMDB writer', () => {
  it('writes metadata the maxmind reader accepts', async () => {
    const city = await maxmind.open(join(dir, 'city-v4.mmdb'));
    expect(city.metadata).toMatchObject({
      binaryFormatMajorVersion: 2,
      binaryFormatMinorVersion: 0,
      buildEpoch: new Date(BUILD_EPOCH * 1000),
      databaseType: 'GeoLite2-City',
      description: { en: 'GeoLite2-City test' },
      ipVersion: 4,
      languages: ['en'],
      recordSize: 24,
      nodeByteSize: 6,
      // One node per distinct prefix shorter than a network: 89.x and 2.x share only bit 0, so 1 root +
      // 1 node at depth 1 + 2 paths x 22 nodes (depths 2..23); the /16 inside 89.160.20.0/24's path adds none.
      nodeCount: 46,
      searchTreeSize: 46 * 6,
    });
    // 96 nodes down ::/96 to the IPv4 root, the 46 IPv4 nodes, 15 for ::ffff:0:0/96 (depths 81..95) and
    // 13 for 2002::/16 (depths 3..15).
    expect(new Reader(build('GeoLite2-City', 6, cityNetworks)).metadata).toMatchObject({
      ipVersion: 6,
      nodeCount: 96 + 46 + 15 + 13,
    });
    for (const ip of ['89.160.20.5', '::ffff:89.160.20.5', '2002:59a0:1405::1', '2001:db8::1']) {
      expect(maxmind.validate(ip)).toBe(true);
    }
  });

  it('reports the most specific network as the prefix length', () => {
    const reader = new Reader(build('GeoLite2-City', 4, cityNetworks));
    expect(reader.getWithPrefixLength('89.160.20.5')[1]).toBe(24);
    expect(reader.getWithPrefixLength('2.125.160.216')[1]).toBe(24);
    // 89.160.99.1 leaves the /24's path at bit 17, where the /16 was split.
    expect(reader.getWithPrefixLength('89.160.99.1')).toEqual([
      { continent: expect.any(Object), country: expect.any(Object), registered_country: expect.any(Object) },
      18,
    ]);
  });

  it('round-trips every supported value type, including extended sizes', () => {
    const sizes = [29, 284, 285, 65_820, 65_821, 70_000]; // each side of the 1-, 2- and 3-byte size forms
    const data = {
      empty: '',
      ascii: 'x'.repeat(28), // largest size in the control byte
      sizes: sizes.map((n) => 'x'.repeat(n)),
      utf8: 'Linköping, Östergötland, 東京',
      u16: uint16(65_535),
      u32: uint32(4_294_967_295),
      zero: 0,
      inferredUint: 29518,
      inferredDouble: -1.25,
      u64: uint64(2n ** 64n - 1n),
      u128: 2n ** 100n,
      i32: int32(-2),
      f32: float(1.5),
      dbl: double(58),
      yes: true,
      no: false,
      bytes: Uint8Array.from([0, 1, 255]),
      nested: { list: [1, 'two', [3], { four: 4 }], emptyMap: {}, emptyList: [] },
      manyKeys: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i])),
    };
    const reader = new Reader<any>(
      writeMmdb({ databaseType: 'Test-Types', ipVersion: 4, networks: [{ cidr: '192.0.2.0/24', data }] }),
    );
    const got = reader.get('192.0.2.1');
    expect(got).toEqual({
      ...data,
      u16: 65_535,
      u32: 4_294_967_295,
      u64: 2n ** 64n - 1n,
      i32: -2,
      f32: 1.5,
      dbl: 58,
      bytes: Buffer.from([0, 1, 255]),
    });
    expect(got.sizes.map((s: string) => s.length)).toEqual(sizes);
  });

  it('rejects what the format or the tree cannot hold', () => {
    expect(() =>
      writeMmdb({ databaseType: 'T', ipVersion: 4, networks: [{ cidr: '2001:db8::/32', data: {} }] }),
    ).toThrow(/IPv6 network/);
    expect(() =>
      writeMmdb({ databaseType: 'T', ipVersion: 4, networks: [{ cidr: '0.0.0.0/0', data: {} }] }),
    ).toThrow(/prefix length/);
    expect(() =>
      writeMmdb({ databaseType: 'T', ipVersion: 4, networks: [{ cidr: '192.0.2.0/24', data: { a: null } }] }),
    ).toThrow(/No MMDB encoding/);
    expect(() =>
      writeMmdb({
        databaseType: 'T',
        ipVersion: 4,
        networks: [{ cidr: '192.0.2.0/24', data: { a: uint16(70_000) } }],
      }),
    ).toThrow(RangeError);
  });
});
