import { readFileSync } from 'node:fs';
import type { SelectionRule } from './select.js';

// Tables live in mappings/cim/ (shipped with the package) so they can be reviewed as data. The same
// relative path works from src/map/cim/ and from dist/map/cim/.
function loadTable<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../mappings/cim/${name}`, import.meta.url), 'utf8')) as T;
}

export interface CloudTrailTables {
  vendorProduct: string;
  authenticationEvents: string[];
  actionStatus: { exact: Record<string, string>; prefixes: [string, string][] };
  readVerbs: string[];
  objectCategory: { contains: [string, string][] };
  changeType: { byEventSource: Record<string, string>; byEventName: Record<string, string> };
  fields: Record<string, SelectionRule[]>;
  /** Events that name their actor in src_user*, and the paths each of those fields coalesces. */
  srcUser: { eventName: string[]; name: string[]; id: string[]; type: string[] };
}

export interface VpcFlowTables {
  vendorProduct: string;
  action: Record<string, string>;
  direction: Record<string, string>;
  /** IANA protocol number → [protocol, transport]. */
  protocols: Record<string, [string, string]>;
}

export const cloudTrailTables: CloudTrailTables = loadTable('cloudtrail.json');
export const vpcFlowTables: VpcFlowTables = loadTable('vpcflow.json');
