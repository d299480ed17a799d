import { createReadStream, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeObject } from '../../../src/decode/index.js';
import { buildArtefacts } from '../../../src/detection/build.js';
import { CIM_EVENTTYPES, eventtypesConf, tagsConf } from '../../../src/detection/cim-eventtypes.js';
import { type HecEvent, toCim } from '../../../src/map/cim/index.js';
import type { RawRecord } from '../../../src/types.js';

/**
 * The eventtypes and tags the Splunk app carries so that our events fill the CIM data models without the
 * Splunk Add-on for AWS: the conf files read back as Splunk would read them, and every search run (by a
 * small matcher for the one grammar we write) over what the mapper makes of the sample objects and of
 * hand-built records, against what the mapper classified each record as.
 */

const repoRoot = path.resolve(import.meta.dirname, '../../..');

type Conf = Map<string, Record<string, string>>;

/** A .conf file as Splunk reads it: `[stanza]`, `key = value`, `#` comments, `\` continues a line. */
function parseConf(text: string): Conf {
  const conf: Conf = new Map();
  let stanza: Record<string, string> | undefined;
  const lines = text.replace(/\\\n/g, '\n').split('\n');
  for (const line of lines) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const header = /^\[(.*)\]$/.exec(line);
    if (header) {
      expect(conf.has(header[1]!), `stanza [${header[1]}] twice`).toBe(false);
      stanza = {};
      conf.set(header[1]!, stanza);
      continue;
    }
    const kv = /^([^=\s]+)\s*=\s*(.*)$/.exec(line);
    if (!kv || !stanza) throw new Error(`not a conf line: ${line}`);
    stanza[kv[1]!] = kv[2]!;
  }
  return conf;
}

/**
 * Whether an eventtype search selects an event. The grammar is what cim-eventtypes.ts writes:
 * `sourcetype=X` and `field::value` terms (value `*` = present), `( … OR … )` groups, all ANDed. Anything
 * else fails the test: a search outside it is one this matcher cannot vouch for. Indexed terms compare
 * case-insensitively, as Splunk's do.
 */
function selects(search: string, ev: HecEvent): boolean {
  const term = (t: string): boolean => {
    const st = /^sourcetype=(\S+)$/.exec(t);
    if (st) return ev.sourcetype === st[1];
    const ix = /^([a-z_]+)::(\S+)$/.exec(t);
    if (!ix) throw new Error(`eventtype term outside the known grammar: ${t}`);
    const value = ev.fields[ix[1]!];
    if (value === undefined) return false;
    if (ix[2] === '*') return true;
    const values = Array.isArray(value) ? value : [String(value)];
    return values.some((v) => v.toLowerCase() === ix[2]!.toLowerCase());
  };
  const clauses = search.match(/\([^)]*\)|\S+/g) ?? [];
  return clauses.every((c) =>
    c.startsWith('(')
      ? c
          .slice(1, -1)
          .split(' OR ')
          .map((t) => t.trim())
          .some(term)
      : term(c),
  );
}

/** The tags Splunk would give an event: the union over the eventtypes that select it. */
function tagsOf(ev: HecEvent, tags: Conf, eventtypes: Conf): string[] {
  const out = new Set<string>();
  for (const [name, et] of eventtypes) {
    if (!selects(et.search!, ev)) continue;
    for (const [tag, state] of Object.entries(tags.get(`eventtype=${name}`) ?? {}))
      if (state === 'enabled') out.add(tag);
  }
  return [...out].sort();
}

/**
 * What the mapper classified a record as, read off its output the way each data model needs it:
 * Authentication events carry action success/failure (and privileged ones the root user), Change events
 * the `change_type` of a write, Network_Traffic events a flow's allowed/blocked action.
 */
function expectedTags(ev: HecEvent): string[] {
  const f = ev.fields;
  if (ev.sourcetype === 'aws:cloudwatchlogs:vpcflow')
    return f.action === 'allowed' || f.action === 'blocked' ? ['communicate', 'network'] : [];
  if (f.change_type !== undefined) return ['change'];
  if (f.action === 'success' || f.action === 'failure')
    return f.signature === 'ConsoleLogin' && f.user_type === 'Root'
      ? ['authentication', 'privileged']
      : ['authentication'];
  return [];
}

async function sampleRecords(): Promise<RawRecord[]> {
  const out: RawRecord[] = [];
  const root = path.join(repoRoot, 'samples');
  const files = readdirSync(root, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
  for (const file of files) {
    const full = path.join(file.parentPath, file.name);
    for await (const r of decodeObject(createReadStream(full), {
      origin: { key: path.relative(root, full) },
    }))
      if (r.kind === 'record') out.push(r.record);
  }
  return out;
}

const origin = { bucket: 'b', key: 'AWSLogs/1/CloudTrail/x.json.gz', record: 1 };
const identity = { type: 'IAMUser', accountId: '111122223333', userName: 'alice' };
const call = (eventName: string, extra: Record<string, unknown> = {}): RawRecord => ({
  logType: 'cloudtrail',
  origin,
  event: {
    eventTime: '2024-03-01T10:20:30Z',
    eventSource: 'signin.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userIdentity: identity,
    ...extra,
  },
});

/** Records whose class the samples do not show, or show only one way. */
const handBuilt: { why: string; record: RawRecord; tags: string[] }[] = [
  { why: 'MFA check', record: call('CheckMfa'), tags: ['authentication'] },
  {
    why: 'role switch',
    record: call('SwitchRole', { eventType: 'AwsConsoleSignIn' }),
    tags: ['authentication'],
  },
  {
    why: 'failed console login',
    record: call('ConsoleLogin', { responseElements: { ConsoleLogin: 'Failure' } }),
    tags: ['authentication'],
  },
  {
    why: 'root console login',
    record: call('ConsoleLogin', {
      userIdentity: { type: 'Root', accountId: '111122223333', arn: 'arn:aws:iam::111122223333:root' },
      responseElements: { ConsoleLogin: 'Success' },
    }),
    tags: ['authentication', 'privileged'],
  },
  {
    why: 'a write whose verb is in no table, readOnly false',
    record: call('BatchWriteItem', { eventSource: 'dynamodb.amazonaws.com', readOnly: false }),
    tags: ['change'],
  },
  {
    why: 'a failed write',
    record: call('DeleteBucket', { eventSource: 's3.amazonaws.com', errorCode: 'AccessDenied' }),
    tags: ['change'],
  },
  {
    why: 'a read by its verb, no readOnly',
    record: call('DescribeInstances', { eventSource: 'ec2.amazonaws.com' }),
    tags: [],
  },
  {
    why: 'a flow record without a flow',
    record: {
      logType: 'vpcflow',
      origin,
      fields: { version: '2', 'account-id': '111122223333', 'interface-id': 'eni-1', 'log-status': 'NODATA' },
      line: '2 111122223333 eni-1 - - - - - - - 1700000000 1700000060 - NODATA',
    },
    tags: [],
  },
];

let eventtypes: Conf;
let tags: Conf;
let mapped: HecEvent[];

beforeAll(async () => {
  eventtypes = parseConf(eventtypesConf());
  tags = parseConf(tagsConf());
  mapped = (await sampleRecords()).map((r) => toCim(r));
});

describe('eventtypes.conf and tags.conf', () => {
  it('read back as the eventtypes we define, each with a tags stanza and nothing else', () => {
    expect([...eventtypes.keys()]).toEqual(CIM_EVENTTYPES.map((e) => e.name));
    expect([...tags.keys()].sort()).toEqual([...eventtypes.keys()].map((n) => `eventtype=${n}`).sort());
    for (const e of CIM_EVENTTYPES) {
      expect(eventtypes.get(e.name)).toEqual({ search: e.search, description: e.description });
      expect(tags.get(`eventtype=${e.name}`)).toEqual(Object.fromEntries(e.tags.map((t) => [t, 'enabled'])));
    }
  });

  it('use our prefix, never a name of the add-on', () => {
    for (const name of eventtypes.keys()) {
      expect(name).toMatch(/^aws_siem_connector_[a-z_]+$/);
      expect(name).not.toMatch(/^(aws_cloudtrail|aws_vpcflow|vpcflow)/);
    }
  });

  it('give each data model the tags its constraint selects on, together on one eventtype', () => {
    const sets = [...tags.values()].map((t) => Object.keys(t).sort().join(' '));
    expect(sets).toEqual(
      expect.arrayContaining([
        'authentication',
        'authentication privileged',
        'change',
        'communicate network',
      ]),
    );
  });

  it('search only with the sourcetypes and indexed fields the mapper emits', () => {
    const emitted = new Map<string, Set<string>>();
    for (const ev of [...mapped, ...handBuilt.map((h) => toCim(h.record))]) {
      const names = emitted.get(ev.sourcetype) ?? new Set<string>();
      for (const k of Object.keys(ev.fields)) names.add(k);
      emitted.set(ev.sourcetype, names);
    }
    for (const [name, et] of eventtypes) {
      const sourcetype = /^sourcetype=(\S+) /.exec(et.search!)?.[1];
      expect(emitted.has(sourcetype!), `${name}: sourcetype ${sourcetype}`).toBe(true);
      // `::` only: a `field=value` term would also match the add-on's search-time fields.
      expect(et.search!.replace(/^sourcetype=\S+/, ''), name).not.toMatch(/[^:]=/);
      for (const [, field] of et.search!.matchAll(/([a-z_]+)::/g))
        expect(emitted.get(sourcetype!), `${name}: ${field}`).toContain(field);
    }
  });
});

describe('what the eventtypes tag', () => {
  it('the sample objects: each record exactly as the mapper classified it', () => {
    const seen = new Set<string>();
    for (const ev of mapped) {
      const expected = expectedTags(ev);
      expect(
        tagsOf(ev, tags, eventtypes),
        `${ev.sourcetype} ${ev.fields.signature ?? ev.fields.action}`,
      ).toEqual(expected);
      seen.add(expected.join(' '));
    }
    // The samples hold every class, so none of the comparisons above is vacuous.
    expect([...seen].sort()).toEqual(
      ['', 'authentication', 'authentication privileged', 'change', 'communicate network'].sort(),
    );
  });

  it.each(handBuilt)('$why', ({ record, tags: wanted }) => {
    const ev = toCim(record);
    expect(expectedTags(ev)).toEqual(wanted);
    expect(tagsOf(ev, tags, eventtypes)).toEqual(wanted);
  });

  it('every authentication event name of the mapper, and only those', () => {
    const ct = (eventName: string) => toCim(call(eventName));
    const auth = eventtypes.get('aws_siem_connector_cloudtrail_authentication')!.search!;
    for (const name of ['ConsoleLogin', 'CheckMfa', 'SwitchRole', 'Federate', 'CredentialVerification'])
      expect(selects(auth, ct(name)), name).toBe(true);
    for (const name of ['GetSessionToken', 'AssumeRole', 'ListUsers'])
      expect(selects(auth, ct(name)), name).toBe(false);
  });
});

describe('rules build', () => {
  let out: string;
  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('writes eventtypes.conf and tags.conf into the app, exported system-wide', async () => {
    out = await mkdtemp(path.join(tmpdir(), 'asc-rules-build-'));
    const built = await buildArtefacts([], out);
    expect(built.eventtypes).toBe(CIM_EVENTTYPES.length);
    const read = (...p: string[]) => readFile(path.join(built.splunkApp, ...p), 'utf8');
    expect(parseConf(await read('default', 'eventtypes.conf'))).toEqual(eventtypes);
    expect(parseConf(await read('default', 'tags.conf'))).toEqual(tags);
    expect(parseConf(await read('metadata', 'default.meta')).get('')).toMatchObject({ export: 'system' });
  });
});
