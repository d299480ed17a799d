import { hash } from 'node:crypto';
import type { RawRecord } from '../../types.js';
import { recordAccount } from '../account.js';
import { cloudtrailToEcs } from './cloudtrail.js';
import { addObjectFields } from './object-fields.js';
import type { EcsDocument, EcsMapOptions } from './types.js';
import { vpcflowToEcs } from './vpcflow.js';

export { communityId } from './community-id.js';
export { EcsMapError } from './errors.js';
export { geoIpFromReaders, openGeoIp } from './geoip.js';
export { javaMapString } from './java-map-string.js';
export {
  ECS_VERSION,
  type EcsDocument,
  type EcsMapOptions,
  type GeoFields,
  type GeoIpLookup,
} from './types.js';

/**
 * Raw record → ECS document (pure; enrichment only through the injected GeoIP lookup). Throws EcsMapError
 * (code MAP_FAILED) for a record that cannot make a valid document; the caller dead-letters it.
 * The per-type mappers give what Elastic's pipeline makes of the record; the fields Filebeat's input adds
 * (which object it came from) are the same for both types, so they are added here.
 */
export function toEcs(record: RawRecord, options?: EcsMapOptions): EcsDocument {
  const doc =
    record.logType === 'cloudtrail'
      ? cloudtrailToEcs(record.event, record.origin, options, record.text)
      : vpcflowToEcs(record.fields, record.line, record.origin, options);
  addObjectFields(doc, record.origin);
  if (options?.accountNames) {
    const account = (doc.cloud as { account?: { id?: string; name?: string } } | undefined)?.account;
    const name = account?.id === undefined ? undefined : options.accountNames[account.id];
    if (account && name !== undefined) account.name = name;
  }
  if (options?.accountNamespaces) {
    const account = recordAccount(record);
    const namespace = account === undefined ? undefined : options.accountNamespaces[account];
    if (namespace !== undefined) (doc.data_stream as { namespace: string }).namespace = namespace;
  }
  return doc;
}

/**
 * Deterministic document id, so a resent record overwrites (or is refused as a duplicate of) itself:
 * CloudTrail's eventID; for flows (which have no id) a hash of bucket, key and line number.
 */
export function documentId(record: RawRecord): string {
  if (record.logType === 'cloudtrail') {
    const id = record.event.eventID;
    if (typeof id === 'string' && id !== '') return id;
  }
  const { bucket, key, record: position } = record.origin;
  // One-shot hash: this runs once per flow record, and a Hash object per call costs twice as much.
  return hash('sha1', `${record.logType}\n${bucket ?? ''}\n${key}\n${position}`, 'base64url');
}
