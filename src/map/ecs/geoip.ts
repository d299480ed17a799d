import maxmind, { type AsnResponse, type CityResponse, type Reader } from 'maxmind';
import { hasKeys } from './objects.js';
import type { GeoFields, GeoIpLookup } from './types.js';

/**
 * GeoIP/ASN enrichment from MaxMind databases (GeoLite2-City / GeoLite2-ASN or compatible), the same
 * databases Elastic's geoip processor uses. Either path may be absent.
 */
export async function openGeoIp(paths: { city?: string; asn?: string }): Promise<GeoIpLookup> {
  const city = paths.city ? await maxmind.open<CityResponse>(paths.city) : undefined;
  const asn = paths.asn ? await maxmind.open<AsnResponse>(paths.asn) : undefined;
  return geoIpFromReaders({ city, asn });
}

export function geoIpFromReaders(readers: {
  city?: Reader<CityResponse>;
  asn?: Reader<AsnResponse>;
}): GeoIpLookup {
  // The reader walks an IPv6 address's bits through an IPv4-only tree as if it were IPv4 and answers
  // with whatever network that lands in; GeoLite2 databases are IPv6 trees, custom ones may not be.
  const v4Only = (r?: Reader<CityResponse> | Reader<AsnResponse>) => r?.metadata.ipVersion === 4;
  const cityV4 = v4Only(readers.city);
  const asnV4 = v4Only(readers.asn);
  return {
    lookup(ip: string): GeoFields | undefined {
      const out: GeoFields = {};
      const v6 = ip.includes(':');
      const c = v6 && cityV4 ? undefined : readers.city?.get(ip);
      if (c) {
        const geo: Record<string, unknown> = {};
        if (c.city?.names?.en) geo.city_name = c.city.names.en;
        if (c.continent?.names?.en) geo.continent_name = c.continent.names.en;
        if (c.country?.iso_code) geo.country_iso_code = c.country.iso_code;
        if (c.country?.names?.en) geo.country_name = c.country.names.en;
        if (c.location) geo.location = { lat: c.location.latitude, lon: c.location.longitude };
        const sub = c.subdivisions?.[0];
        if (sub?.iso_code && c.country?.iso_code)
          geo.region_iso_code = `${c.country.iso_code}-${sub.iso_code}`;
        if (sub?.names?.en) geo.region_name = sub.names.en;
        if (hasKeys(geo)) out.geo = geo;
      }
      const a = v6 && asnV4 ? undefined : readers.asn?.get(ip);
      if (a) {
        out.as = { number: a.autonomous_system_number };
        if (a.autonomous_system_organization)
          out.as.organization = { name: a.autonomous_system_organization };
      }
      return out.geo || out.as ? out : undefined;
    },
  };
}
