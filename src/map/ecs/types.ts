/** An ECS document as Elastic's AWS integration produces it: nested objects, no `_id`. */
export type EcsDocument = Record<string, unknown>;

export interface GeoFields {
  geo?: Record<string, unknown>;
  as?: { number?: number; organization?: { name: string } };
}

/** Looks up an IP address; returns ECS `geo` / `as` objects or nothing. Injected, so mapping stays pure. */
export interface GeoIpLookup {
  lookup(ip: string): GeoFields | undefined;
}

export interface EcsMapOptions {
  /** Optional GeoIP/ASN enrichment for source and destination addresses. */
  geoip?: GeoIpLookup;
  /** data_stream.namespace; `default` when absent. */
  namespace?: string;
  /** data_stream.namespace by the account whose log a record is (see map/account.ts), over `namespace`. */
  accountNamespaces?: Record<string, string>;
  /** `cloud.account.name` by `cloud.account.id`. */
  accountNames?: Record<string, string>;
  /** Keep the record's original text in event.original (off by default, as in Elastic without preserve_original_event). */
  includeOriginal?: boolean;
}

/** The ECS version Elastic's AWS integration stamps on its documents. */
export const ECS_VERSION = '8.11.0';
