import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadFieldMap } from '../../../src/detection/fieldmap.js';
import {
  compileKibana,
  compileQueryDsl,
  compileSavedSearch,
  compileSpl,
  loadRules,
  parseRules,
  type Rule,
} from '../../../src/detection/index.js';
import { loadShapes } from '../../../src/detection/shapes.js';
import { testRecord } from '../../../src/detection/testing.js';
import { toEcs } from '../../../src/map/ecs/index.js';
import { splunkIndexes } from '../../../src/splunk-index.js';

const rulesDir = fileURLToPath(new URL('../../../rules/', import.meta.url));
let rules: Rule[];
beforeAll(async () => {
  rules = await loadRules(rulesDir);
});
const byName = (name: string) => rules.find((r) => r.name === name) as Rule;

function rule(detection: string, service = 'cloudtrail'): Rule {
  const [r] = parseRules([
    {
      file: 'x.yml',
      text: `title: t\nid: 0b0c6a5e-1f3a-4c1e-9d7e-0a1b2c3d4e5f\ndescription: d\nauthor: a\nlevel: low\nlogsource: {product: aws, service: ${service}}\ndetection: ${detection}\n`,
    },
  ]);
  return r as Rule;
}

/** Splunk's names for a record's fields, as spath/KV_MODE=json writes them (`a{}.b` inside arrays). */
function splunkNames(value: unknown, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) splunkNames(v, `${prefix}{}`, out);
  else if (value && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) splunkNames(v, prefix ? `${prefix}.${k}` : k, out);
  else if (value !== null && value !== undefined) out.add(prefix);
  return out;
}

function splNames(spl: string): string[] {
  return [...spl.matchAll(/'?([A-Za-z][\w.{}]*)'?\s*(?:!?=|,|\))/g)]
    .map((m) => m[1] as string)
    .filter((n) => /[A-Z.]/.test(n) && n !== 'sourcetype' && !/^(match|lower|isnotnull|tonumber)$/.test(n));
}

describe('Splunk: the add-on coalesces errorCode', () => {
  it('compiles errorCode existence as a comparison with "success", in search and in where', () => {
    expect(compileSpl(byName('aws_cloudtrail_logging_stopped'))).toBe(
      'sourcetype="aws:cloudtrail" eventSource="cloudtrail.amazonaws.com" eventName="StopLogging" errorCode="success"',
    );
    expect(compileSpl(byName('aws_cloudtrail_tamper_attempt_failed'))).toContain(' errorCode!="success"');
    const where = compileSpl(byName('aws_iam_access_key_created_for_another_user'));
    expect(where).toContain(`OR 'errorCode'!="success")`);
    expect(where).not.toContain("isnotnull('errorCode')");
    for (const r of rules.filter(
      (r) => r.service === 'cloudtrail' && (r.kind === 'correlation' || r.generate),
    ))
      expect(compileSpl(r), r.file).not.toMatch(/errorCode'?=\*|isnotnull\('errorCode'\)/);
  });
});

describe('Splunk: field names inside JSON arrays', () => {
  it('names only fields that the rules’ own test events have, in the add-on’s `{}` form', () => {
    const defaults = new Set(Object.keys(loadFieldMap('splunk').cloudtrail.defaults));
    const shapes = loadShapes().cloudtrail;
    for (const r of rules.filter(
      (r) => r.service === 'cloudtrail' && (r.kind === 'correlation' || r.generate),
    )) {
      const tests = parse(readFileSync(`${rulesDir}${r.file.replace(/\.yml$/, '.tests.yml')}`, 'utf8'));
      const seen = new Set<string>();
      for (const c of [...tests.positive, ...tests.negative])
        for (const [i, e] of (c.events as Record<string, unknown>[]).entries())
          splunkNames((testRecord('cloudtrail', e, 'k', i) as { event: unknown }).event, '', seen);
      for (const name of splNames(compileSpl(r))) {
        if (defaults.has(name) || seen.has(name)) continue;
        // One of an object's keys, listed as alternatives: another of them must be there.
        const alternative = Object.entries(shapes).some(
          ([path, shape]) =>
            shape.keys?.some((k) => name.endsWith(`.${k}`)) &&
            shape.keys.some((k) => seen.has(name.replace(/[^.]+$/, k))) &&
            name.replace(/\{\}/g, '').startsWith(path),
        );
        expect(alternative, `${r.file}: ${name}`).toBe(true);
      }
    }
  });

  it('writes `{}` after every array, and reaches objects in arrays through their keys', () => {
    const snapshot = compileSpl(byName('aws_snapshot_shared'));
    expect(snapshot).toContain(
      '(requestParameters.createVolumePermission.add.items{}.userId=* OR requestParameters.createVolumePermission.add.items{}.group=*)',
    );
    expect(snapshot).toContain('requestParameters.valuesToAdd{}=*');
    expect(snapshot).not.toContain('items{}=*');
    expect(compileSpl(byName('aws_s3_bucket_policy_account_principal'))).toContain(
      'requestParameters.bucketPolicy.Statement{}.Principal.AWS="arn:aws:iam::*"',
    );
  });

  it('refuses a value test on a path that holds objects', () => {
    expect(() =>
      compileSpl(rule('{sel: {requestParameters.bucketPolicy.Statement: x}, condition: sel}')),
    ).toThrow(/holds objects/);
  });
});

describe('Splunk: a literal asterisk', () => {
  it('matches only `*`, through where, not as a search wildcard', () => {
    const spl = compileSpl(
      rule(String.raw`{sel: {requestParameters.bucketPolicy.Statement.Principal.AWS: '\*'}, condition: sel}`),
    );
    expect(spl).not.toMatch(/="\*"/);
    expect(spl).toContain(`match('requestParameters.bucketPolicy.Statement{}.Principal.AWS', "(?i)^\\\\*$")`);
    const inside = compileSpl(rule(String.raw`{sel: {eventName|contains: 'a\*b'}, condition: sel}`));
    expect(inside).toBe(`sourcetype="aws:cloudtrail" | where match('eventName', "(?i)a\\\\*b")`);
  });
});

describe('a rule on the text of a whole blob (requestParameters)', () => {
  it('reads the ECS string form in ES|QL and the raw JSON in Splunk, never the flattened leaves', () => {
    const r = byName('aws_s3_bucket_policy_public');
    const kibana = compileKibana(r);
    expect(kibana.type).toBe('esql');
    expect(kibana.query).toContain('TO_LOWER(aws.cloudtrail.request_parameters) RLIKE ".*(\\\\{');
    expect(kibana.query).not.toContain('flattened');
    const spl = compileSpl(r);
    expect(spl).toContain(`match('_raw', "(?i)\\\\{`);
    expect(spl).not.toContain('Statement{}');
  });

  it('Splunk: the _raw patterns tell the rule’s own cases apart in the JSON as written', () => {
    const r = byName('aws_s3_bucket_policy_public');
    // The where clause's regexes, out of their SPL strings; PCRE reads these constructs as JS does.
    const patterns = [...compileSpl(r).matchAll(/match\('_raw', "\(\?i\)((?:[^"\\]|\\.)*)"\)/g)].map(
      (m) => new RegExp((m[1] as string).replace(/\\(.)/g, '$1'), 'i'),
    );
    expect(patterns).toHaveLength(4);
    const tests = parse(readFileSync(`${rulesDir}${r.file.replace(/\.yml$/, '.tests.yml')}`, 'utf8'));
    const seen = { positive: 0, negative: 0 };
    for (const kind of ['positive', 'negative'] as const) {
      for (const c of tests[kind] as { name: string; events: Record<string, unknown>[] }[]) {
        const event = c.events[0] as Record<string, unknown>;
        if ('errorCode' in event) continue; // refused calls are the errorCode filter's, not the pattern's
        const raw = JSON.stringify((testRecord('cloudtrail', event, 'k', 0) as { event: unknown }).event);
        expect(
          patterns.some((p) => p.test(raw)),
          `${kind}: ${c.name}`,
        ).toBe(kind === 'positive');
        seen[kind]++;
      }
    }
    expect(seen.positive).toBeGreaterThan(0);
    expect(seen.negative).toBeGreaterThan(0);
  });
});

describe('Splunk: scheduled searches and late CloudTrail delivery', () => {
  it('windows on index time, every 5 minutes, reaching a day back in event time', () => {
    const detection = compileSavedSearch(byName('aws_cloudtrail_logging_stopped'));
    expect(detection).toMatchObject({
      cron_schedule: '*/5 * * * *',
      'dispatch.earliest_time': '-24h@h',
      'dispatch.latest_time': 'now',
    });
    expect(detection.search).toMatch(/^sourcetype="aws:cloudtrail" _index_earliest=-5m@m _index_latest=@m /);
    const correlation = compileSavedSearch(byName('aws_vpcflow_port_scan'));
    expect(correlation.search).toMatch(
      /^sourcetype="aws:cloudwatchlogs:vpcflow" _index_earliest=-10m@m _index_latest=@m vpcflow_action="REJECT" \| streamstats/,
    );
    // The query itself (used for checks over test data) stays free of scheduling.
    expect(compileSpl(byName('aws_cloudtrail_logging_stopped'))).not.toContain('_index_');
  });

  it('reads the indexes it is given, where data routed to its own indexes lives', () => {
    const detection = compileSavedSearch(byName('aws_cloudtrail_logging_stopped'), {
      indexes: ['aws_cloudtrail', 'tenant_a'],
    });
    expect(detection.search).toMatch(
      /^sourcetype="aws:cloudtrail" index IN \(aws_cloudtrail, tenant_a\) _index_earliest=-5m@m _index_latest=@m /,
    );
  });
});

describe('rules build/install --splunk-index', () => {
  it('takes comma-separated Splunk index names and refuses others', () => {
    expect(splunkIndexes(' aws_cloudtrail, aws-vpcflow ')).toEqual(['aws_cloudtrail', 'aws-vpcflow']);
    expect(splunkIndexes(undefined)).toBeUndefined();
    expect(() => splunkIndexes('Main')).toThrow(/"Main" is not a Splunk index name/);
    expect(() => splunkIndexes(',')).toThrow(/no index given/);
  });
});

describe('Elastic: flattened CloudTrail blobs', () => {
  it('tests an object-holding key through its leaf keys', () => {
    const query = compileKibana(byName('aws_snapshot_shared')).query as string;
    expect(query).toContain(
      '(aws.cloudtrail.flattened.request_parameters.createVolumePermission.add.items.userId:* or aws.cloudtrail.flattened.request_parameters.createVolumePermission.add.items.group:*)',
    );
    expect(query).not.toContain('add.items:*');
  });

  it('sends suffix, contains and wildcard matches to the string form: flattened fields reject wildcard queries', () => {
    const body = compileKibana(byName('aws_iam_admin_policy_attached'));
    expect(body.query).toContain(
      '(aws.cloudtrail.request_parameters: *policyArn=*\\:policy/AdministratorAccess,* or aws.cloudtrail.request_parameters: *policyArn=*\\:policy/AdministratorAccess\\}* or aws.cloudtrail.request_parameters: *policyArn=*\\:policy/AdministratorAccess]*)',
    );
    const dsl = JSON.stringify(compileQueryDsl(byName('aws_iam_admin_policy_attached')));
    expect(dsl).not.toMatch(/"wildcard":\{"aws\.cloudtrail\.flattened/);
    expect(dsl).toContain(
      '"wildcard":{"aws.cloudtrail.request_parameters":{"value":"*policyArn=*:policy/AdministratorAccess,*"',
    );
    // Prefixes stay on the flattened field, which answers prefix queries.
    expect(compileKibana(byName('aws_s3_bucket_policy_account_principal')).query).toContain(
      'aws.cloudtrail.flattened.request_parameters.bucketPolicy.Statement.Principal.AWS: arn\\:aws\\:iam\\:\\:*',
    );
    for (const r of rules.filter((r) => r.kind === 'correlation' || r.generate)) {
      const text = JSON.stringify(compileQueryDsl(r));
      expect(text, r.file).not.toMatch(/"(wildcard|regexp)":\{"aws\.cloudtrail\.flattened/);
    }
  });

  it('keeps ES|QL off flattened fields and null-safe under NOT', () => {
    for (const name of [
      'aws_iam_access_key_created_for_another_user',
      'aws_iam_login_profile_created_for_another_user',
    ]) {
      const query = compileKibana(byName(name)).query as string;
      expect(query, name).not.toContain('flattened');
      expect(query, name).toContain('COALESCE(TO_LOWER(user.target.name) == TO_LOWER(user.name), FALSE)');
    }
    for (const r of rules.filter((r) => r.kind === 'correlation' || r.generate)) {
      const body = compileKibana(r);
      if (body.type === 'esql') expect(body.query, r.file).not.toContain('.flattened.');
    }
    const viaString = compileKibana(
      rule(
        "{sel: {requestParameters.policyArn|endswith: '/Admin'}, other: {userIdentity.arn|re: 'x'}, condition: sel and other}",
      ),
    ).query as string;
    expect(viaString).toContain(
      'TO_LOWER(aws.cloudtrail.request_parameters) RLIKE ".*[{ ]policyarn=[^,}\\\\]]*/admin[,}\\\\]].*"',
    );
  });
});

describe('ECS field map', () => {
  it('maps every Sigma field to a field the ECS mapper writes from it', () => {
    const map = loadFieldMap('ecs');
    for (const service of ['cloudtrail', 'vpcflow'] as const) {
      for (const [sigma, target] of Object.entries(map[service].fields)) {
        const field = typeof target === 'string' ? target : target.field;
        const value = sampleValue(service, sigma);
        // resources is an array of objects in CloudTrail.
        const raw = sigma.startsWith('resources.')
          ? { resources: [setPath({}, sigma.slice('resources.'.length), value)] }
          : setPath({}, sigma, value);
        const doc = toEcs(testRecord(service, raw, 'k', 0)) as Record<string, unknown>;
        expect(pathExists(doc, field), `${service} ${sigma} -> ${field}`).toBe(true);
      }
    }
  });
});

/** A value of the shape the mapper expects for a raw field. */
function sampleValue(service: string, field: string): unknown {
  if (service === 'vpcflow') {
    const values: Record<string, unknown> = {
      srcaddr: '10.0.0.1',
      dstaddr: '10.0.0.2',
      'pkt-srcaddr': '10.0.0.1',
      'pkt-dstaddr': '10.0.0.2',
      srcport: '443',
      dstport: '443',
      protocol: '6',
      packets: '1',
      bytes: '10',
      start: '1736935200',
      end: '1736935260',
      action: 'ACCEPT',
      'log-status': 'OK',
      'tcp-flags': '2',
      version: '5',
      'flow-direction': 'ingress',
      'traffic-path': '1',
      type: 'IPv4',
    };
    return values[field] ?? `x-${field}`;
  }
  const values: Record<string, unknown> = {
    eventTime: '2025-01-15T10:00:00Z',
    sourceIPAddress: '203.0.113.1',
    readOnly: true,
    managementEvent: true,
    'userIdentity.type': 'IAMUser',
  };
  return values[field] ?? `x-${field}`;
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
  return target;
}

function pathExists(doc: unknown, path: string): boolean {
  if (doc && typeof doc === 'object' && path in (doc as object)) return true;
  const [head, ...rest] = path.split('.');
  const next = Array.isArray(doc)
    ? doc.map((d) => (d as Record<string, unknown>)?.[head as string])
    : (doc as Record<string, unknown>)?.[head as string];
  if (next === undefined) return false;
  if (rest.length === 0) return true;
  return Array.isArray(next)
    ? next.some((n) => pathExists(n, rest.join('.')))
    : pathExists(next, rest.join('.'));
}
