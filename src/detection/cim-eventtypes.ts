import { CIM_SOURCETYPES } from '../map/cim/index.js';
import { cloudTrailTables, vpcFlowTables } from '../map/cim/lookups.js';
import { savedSearchStanza } from './splunk.js';

/**
 * The eventtypes and tags that put our events in the CIM data models on a Splunk without the Splunk
 * Add-on for AWS. Data models select events by tag (Authentication: `tag=authentication`, its
 * Privileged_Authentication dataset `tag=privileged`; Change: `tag=change`; Network_Traffic: `tag=network
 * tag=communicate`), and tags come from eventtypes: the indexed CIM fields alone put nothing in them.
 *
 * Each search keys on the sourcetype and on the indexed fields src/map/cim sets, written `field::value`:
 * that form matches the indexed term itself, so it selects exactly what our mapper classified, never
 * events the add-on ingested itself (which carry no indexed CIM fields), and the add-on's search-time
 * fields of the same names (its own `action`, `command`, …) cannot change what it selects. The value lists
 * come from the mapper's own tables, so a new authentication event name there is tagged here too.
 *
 * With the add-on installed as well, its eventtypes tag the same events: tags are a set, an event is in a
 * data model once however many eventtypes give it the tag, so ours add nothing twice. Names carry the
 * app's prefix and never collide with the add-on's (`aws_cloudtrail_*`, `vpcflow`).
 */
export interface CimEventtype {
  name: string;
  description: string;
  /** A plain search (no pipe), as eventtypes.conf takes it. */
  search: string;
  tags: readonly string[];
}

const PREFIX = 'aws_siem_connector_';

/** `field::value`, or an OR of them; values are tokens (no spaces or quotes) so no quoting is needed. */
function indexed(field: string, values: readonly string[]): string {
  const bad = values.find((v) => !/^[A-Za-z0-9_.:*-]+$/.test(v));
  if (bad !== undefined || values.length === 0)
    throw new Error(`CIM eventtype: cannot match ${field} on ${JSON.stringify(bad ?? values)}`);
  const terms = [...new Set(values)].map((v) => `${field}::${v}`);
  return terms.length === 1 ? (terms[0] as string) : `(${terms.join(' OR ')})`;
}

function search(sourcetype: string, ...clauses: string[]): string {
  return [`sourcetype=${sourcetype}`, ...clauses].join(' ');
}

export const CIM_EVENTTYPES: readonly CimEventtype[] = [
  {
    name: `${PREFIX}cloudtrail_authentication`,
    description:
      'Sign-ins (console logins, MFA checks, role switches and the like): the records the connector maps to CIM Authentication.',
    // The mapper gives exactly these event names `action` success/failure and no Change fields.
    search: search(CIM_SOURCETYPES.cloudtrail, indexed('signature', cloudTrailTables.authenticationEvents)),
    tags: ['authentication'],
  },
  {
    name: `${PREFIX}cloudtrail_authentication_root`,
    description: 'Console sign-ins as the account root user: CIM Privileged_Authentication.',
    // The add-on tags root console logins `privileged` too; ours reads the root user off `user_type`.
    search: search(
      CIM_SOURCETYPES.cloudtrail,
      indexed('signature', ['ConsoleLogin']),
      indexed('user_type', ['Root']),
    ),
    tags: ['authentication', 'privileged'],
  },
  {
    name: `${PREFIX}cloudtrail_change`,
    description: 'Writes (every call that is not read-only): the records the connector maps to CIM Change.',
    // `change_type` is set on writes only (`command`, like the add-on's, is on reads too). Change's root
    // dataset needs nothing but the tag (its one other constraint excludes file, directory and registry
    // objects, which CloudTrail changes never are).
    search: search(CIM_SOURCETYPES.cloudtrail, indexed('change_type', ['*'])),
    tags: ['change'],
  },
  {
    name: `${PREFIX}vpcflow_traffic`,
    description: 'Accepted and rejected flows: CIM Network_Traffic.',
    // Records without a flow (NODATA, SKIPDATA) have no action and are mapped `unknown`; the add-on
    // leaves them out of its eventtype too.
    search: search(CIM_SOURCETYPES.vpcflow, indexed('action', Object.values(vpcFlowTables.action))),
    tags: ['network', 'communicate'],
  },
];

/** The eventtypes.conf keys we set (the REST object's fields too). */
export function eventtypeFields(e: CimEventtype): Record<string, string> {
  return { search: e.search, description: e.description };
}

/** The tags.conf stanza that tags an eventtype, and its keys: one per tag. */
export function tagsStanzaName(eventtype: string): string {
  return `eventtype=${eventtype}`;
}

export function tagsFields(e: CimEventtype): Record<string, string> {
  return Object.fromEntries(e.tags.map((t) => [t, 'enabled']));
}

const HEADER = [
  '# Written by `aws-siem-connector rules build`. These eventtypes key on the indexed CIM fields the',
  '# connector sends (`field::value` matches indexed terms only) and tag its events for the CIM data',
  '# models on a Splunk without the Splunk Add-on for AWS. With the add-on installed too, tags are a set:',
  '# an event its eventtypes tag as well is still in each data model once.',
  '',
];

// savedSearchStanza writes any conf stanza (`key = value` lines, continued when multi-line).
export function eventtypesConf(eventtypes: readonly CimEventtype[] = CIM_EVENTTYPES): string {
  const stanzas = eventtypes.map((e) => savedSearchStanza(e.name, eventtypeFields(e)));
  return [...HEADER, stanzas.join('\n')].join('\n');
}

export function tagsConf(eventtypes: readonly CimEventtype[] = CIM_EVENTTYPES): string {
  const stanzas = eventtypes.map((e) => savedSearchStanza(tagsStanzaName(e.name), tagsFields(e)));
  return [...HEADER, stanzas.join('\n')].join('\n');
}
