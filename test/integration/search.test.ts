import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { benchSearch, type SampleDocument, sampleEcsDocuments } from '../../src/bench/search.js';
import { registerCommands } from '../../src/commands/index.js';
import { validateConfig } from '../../src/config/index.js';
import { recordAccount } from '../../src/map/account.js';
import { documentId, toEcs } from '../../src/map/ecs/index.js';
import { createLogger } from '../../src/observe/index.js';
import { ecsMapOptions } from '../../src/pipeline/build.js';
import { generateCloudTrailRecords } from '../../src/samples/index.js';
import {
  createSearchClient,
  createSearchSink,
  installTemplates,
  type SearchSinkConfig,
  type SearchSinkConfigInput,
  searchSinkConfigSchema,
} from '../../src/sink/search/index.js';
import type { RawRecord, SinkRecord } from '../../src/types.js';
import { serviceEndpoints } from '../services/endpoints.js';
import { uint32, writeGeoDatabases } from '../unit/support/mmdb.js';

type Outcome =
  | { kind: 'ack' }
  | { kind: 'reject'; reason: string; code: string }
  | { kind: 'fail'; error: Error };

interface Tracked {
  records: Array<SinkRecord<Record<string, unknown>>>;
  outcomes: Map<string, Outcome[]>;
}

function track(docs: readonly SampleDocument[]): Tracked {
  const outcomes = new Map<string, Outcome[]>();
  const records = docs.map((d) => {
    const list: Outcome[] = [];
    outcomes.set(d.id, list);
    return {
      ...d,
      delivery: {
        ack: () => list.push({ kind: 'ack' }),
        reject: (reason: string, code: string) => list.push({ kind: 'reject', reason, code }),
        fail: (error: Error) => list.push({ kind: 'fail', error }),
      },
    };
  });
  return { records, outcomes };
}

const run = `it${Date.now().toString(36)}`;
let node: string;
let admin: Client;
let samples: SampleDocument[];

function searchConfig(input: Partial<SearchSinkConfigInput>): SearchSinkConfig {
  return searchSinkConfigSchema.parse({ flavour: 'opensearch', node, flushIntervalMs: 50, ...input });
}

async function count(index: string, query?: Record<string, unknown>): Promise<number> {
  await admin.indices.refresh({ index } as never);
  const res = await admin.count({ index, body: query ? { query } : {} } as never);
  return Number((res.body as { count: number }).count);
}

async function fieldType(index: string, field: string): Promise<string | undefined> {
  const res = await admin.transport.request({ method: 'GET', path: `/${index}/_mapping/field/${field}` });
  const byIndex = res.body as Record<
    string,
    { mappings: Record<string, { mapping: Record<string, { type: string }> }> }
  >;
  for (const entry of Object.values(byIndex)) {
    const mapping = entry.mappings[field]?.mapping;
    if (mapping) return Object.values(mapping)[0]?.type;
  }
  return undefined;
}

async function writeAll(
  sink: ReturnType<typeof createSearchSink>,
  records: Tracked['records'],
): Promise<void> {
  for (const r of records) await sink.write(r);
  await sink.flush();
}

beforeAll(async () => {
  node = serviceEndpoints().opensearch.url;
  admin = new Client({ node });
  samples = await sampleEcsDocuments({ cloudtrail: 120, vpcflow: 150, seed: 5 });
});

afterAll(async () => {
  await admin.transport
    .request({ method: 'DELETE', path: `/_data_stream/logs-aws.*-${run}*` })
    .catch(() => undefined);
  await admin.indices.delete({ index: `${run}-*`, ignore_unavailable: true } as never).catch(() => undefined);
  await admin.close();
});

describe('search sink against a real OpenSearch node: data streams', () => {
  const namespace = `${run}ds`;
  const ct = `logs-aws.cloudtrail-${namespace}`;
  const flow = `logs-aws.vpcflow-${namespace}`;

  it('installs templates on first start and indexes every mapped sample with the right field types', async () => {
    const sink = createSearchSink(searchConfig({ target: { mode: 'datastream', namespace } }), {
      logger: createLogger('silent'),
    });
    const tracked = track(samples);
    await writeAll(sink, tracked.records);
    await sink.close();

    const outcomes = [...tracked.outcomes.values()];
    expect(outcomes.every((o) => o.length === 1 && o[0]!.kind === 'ack')).toBe(true);
    const cloudtrail = samples.filter((s) => s.logType === 'cloudtrail').length;
    expect(await count(ct)).toBe(cloudtrail);
    expect(await count(flow)).toBe(samples.length - cloudtrail);

    const ds = await admin.transport.request({ method: 'GET', path: `/_data_stream/${ct}` });
    expect((ds.body as { data_streams: Array<{ template: string }> }).data_streams[0]!.template).toBe(
      'aws-siem-connector-cloudtrail',
    );

    expect(await fieldType(ct, '@timestamp')).toBe('date');
    expect(await fieldType(ct, 'source.ip')).toBe('ip');
    expect(await fieldType(ct, 'event.action')).toBe('keyword');
    expect(await fieldType(ct, 'user_agent.original')).toBe('keyword');
    expect(await fieldType(ct, 'aws.cloudtrail.request_parameters')).toBe('keyword');
    expect(await fieldType(ct, 'aws.cloudtrail.request_parameters.text')).toBe('text');
    expect(await fieldType(ct, 'aws.cloudtrail.flattened.request_parameters')).toBe('flat_object');
    expect(await fieldType(flow, 'source.bytes')).toBe('long');
    expect(await fieldType(flow, 'destination.port')).toBe('long');
    expect(await fieldType(flow, 'destination.ip')).toBe('ip');
    expect(await fieldType(flow, 'network.transport')).toBe('keyword');
    // The object a document came from, as Filebeat's aws-s3 input names it.
    expect(await fieldType(ct, 'aws.s3.bucket.name')).toBe('keyword');
    expect(await fieldType(flow, 'aws.s3.object.key')).toBe('keyword');
    expect(await fieldType(flow, 'log.file.path')).toBe('keyword');
    // The final pipeline stamps each document on arrival: the time scheduled detections key on.
    expect(await fieldType(ct, 'event.ingested')).toBe('date');
    expect(await count(ct, { exists: { field: 'event.ingested' } })).toBe(cloudtrail);
    expect(await count(flow, { range: { 'event.ingested': { gte: 'now-10m' } } })).toBe(
      samples.length - cloudtrail,
    );

    // The types work in queries: an exact term on a keyword, a CIDR on an ip, a range on a long and a date.
    const consoleLogins = samples.filter(
      (s) => s.logType === 'cloudtrail' && (s.doc.event as { action?: string }).action === 'ConsoleLogin',
    ).length;
    expect(consoleLogins).toBeGreaterThan(0);
    expect(await count(ct, { term: { 'event.action': 'ConsoleLogin' } })).toBe(consoleLogins);
    const bucket = samples[0]!.origin.bucket;
    expect(bucket).toBeDefined();
    expect(await count(ct, { term: { 'aws.s3.bucket.name': bucket } })).toBe(cloudtrail);
    const privateSources = samples.filter(
      (s) =>
        s.logType === 'vpcflow' &&
        /^10\./.test(String((s.doc.source as { ip?: string } | undefined)?.ip ?? '')),
    ).length;
    expect(privateSources).toBeGreaterThan(0);
    expect(await count(flow, { term: { 'source.ip': '10.0.0.0/8' } })).toBe(privateSources);
    const big = samples.filter(
      (s) =>
        s.logType === 'vpcflow' &&
        Number((s.doc.source as { bytes?: number } | undefined)?.bytes ?? 0) >= 1000,
    ).length;
    expect(big).toBeGreaterThan(0);
    expect(big).toBeLessThan(samples.length - cloudtrail);
    expect(await count(flow, { range: { 'source.bytes': { gte: 1000 } } })).toBe(big);
    expect(await count(flow, { range: { '@timestamp': { gte: '2000-01-01', lt: '2100-01-01' } } })).toBe(
      samples.length - cloudtrail,
    );
  });

  it('indexes documents mapped with the GeoIP databases and namespace of the config: geo_point, AS, namespace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-geo-'));
    const { city, asn } = writeGeoDatabases(dir, '203.0.113.0/24', {
      city: {
        country: { iso_code: 'SE', names: { en: 'Sweden' } },
        location: { latitude: 58.4167, longitude: 15.6167 },
      },
      asn: { autonomous_system_number: uint32(64500), autonomous_system_organization: 'Example AS' },
    });
    const geoNamespace = `${run}geo`;
    const config = validateConfig(
      {
        sinks: {
          search: { flavour: 'opensearch', node, target: { mode: 'datastream', namespace: geoNamespace } },
        },
        mapping: { geoip: { city, asn } },
      },
      'test',
    );
    const options = await ecsMapOptions(config);
    const docs: SampleDocument[] = [1, 2, 3].map((n) => {
      const record = {
        logType: 'cloudtrail' as const,
        origin: { bucket: 'b', key: 'geo.json', record: n },
        event: {
          eventVersion: '1.08',
          eventTime: '2026-11-28T10:00:00Z',
          eventID: `${run}-geo-${n}`,
          eventSource: 'signin.amazonaws.com',
          eventName: 'ConsoleLogin',
          awsRegion: 'us-east-1',
          sourceIPAddress: `203.0.113.${n}`,
          userIdentity: { type: 'IAMUser', userName: 'alice', accountId: '111122223333' },
          responseElements: { ConsoleLogin: 'Success' },
        },
      };
      return {
        id: documentId(record),
        logType: 'cloudtrail',
        origin: record.origin,
        doc: toEcs(record, options),
      };
    });
    const sink = createSearchSink(searchConfig({ target: { mode: 'datastream', namespace: geoNamespace } }), {
      logger: createLogger('silent'),
    });
    const tracked = track(docs);
    await writeAll(sink, tracked.records);
    await sink.close();
    expect([...tracked.outcomes.values()].map((o) => o.map((x) => x.kind))).toEqual([
      ['ack'],
      ['ack'],
      ['ack'],
    ]);
    const index = `logs-aws.cloudtrail-${geoNamespace}`;
    expect(await fieldType(index, 'source.geo.location')).toBe('geo_point');
    expect(await fieldType(index, 'source.as.number')).toBe('long');
    expect(await count(index, { term: { 'data_stream.namespace': geoNamespace } })).toBe(3);
    expect(await count(index, { term: { 'source.as.organization.name': 'Example AS' } })).toBe(3);
    expect(
      await count(index, {
        geo_distance: { distance: '50km', 'source.geo.location': { lat: 58.41, lon: 15.62 } },
      }),
    ).toBe(3);
  });

  it('re-sending the same object creates no duplicates: every resend is acked as a duplicate avoided', async () => {
    const sink = createSearchSink(searchConfig({ target: { mode: 'datastream', namespace } }), {
      logger: createLogger('silent'),
    });
    const before = (await count(ct)) + (await count(flow));
    const tracked = track(samples);
    await writeAll(sink, tracked.records);
    await sink.close();
    expect(sink.stats()).toMatchObject({ indexed: 0, duplicates: samples.length, rejected: 0, failed: 0 });
    expect([...tracked.outcomes.values()].every((o) => o.length === 1 && o[0]!.kind === 'ack')).toBe(true);
    expect((await count(ct)) + (await count(flow))).toBe(before);
  });

  it('sends a document with a field type conflict to reject() with the server reason; the rest of the batch is indexed', async () => {
    const conflictNs = `${run}conflict`;
    const sink = createSearchSink(searchConfig({ target: { mode: 'datastream', namespace: conflictNs } }), {
      logger: createLogger('silent'),
    });
    const flows = samples.filter((s) => s.logType === 'vpcflow').slice(0, 9);
    const bad: SampleDocument = {
      ...flows[4]!,
      id: 'conflicting-port',
      doc: { ...flows[4]!.doc, destination: { ip: '10.1.2.3', port: 'http' } },
    };
    const tracked = track([...flows.slice(0, 4), bad, ...flows.slice(4)]);
    await writeAll(sink, tracked.records);
    await sink.close();
    const rejected = tracked.outcomes.get('conflicting-port')!;
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatchObject({ kind: 'reject', code: 'SEARCH_REJECTED' });
    const reason = (rejected[0] as { reason: string }).reason;
    expect(reason).toContain('destination.port');
    expect(reason).toMatch(/mapper_parsing_exception|document_parsing_exception/);
    expect(sink.stats()).toMatchObject({ indexed: 9, rejected: 1, requests: 1 });
    expect(await count(`logs-aws.vpcflow-${conflictNs}`)).toBe(9);
  });
});

describe('search sink against a real OpenSearch node: plain indices', () => {
  it('writes dated indices from the pattern, each with the template mappings', async () => {
    const prefix = `${run}-ix`;
    const sink = createSearchSink(
      searchConfig({
        target: { mode: 'index', pattern: `${prefix}-{logType}-{yyyy.MM.dd}` },
        setup: { templatePrefix: prefix },
      }),
      { logger: createLogger('silent') },
    );
    const docs = samples.filter((s) => s.logType === 'vpcflow').slice(0, 20);
    const tracked = track(docs);
    await writeAll(sink, tracked.records);
    await sink.close();
    expect(sink.stats().indexed).toBe(20);
    const days = new Set(docs.map((d) => String(d.doc['@timestamp']).slice(0, 10).replaceAll('-', '.')));
    const indices = await admin.transport.request({
      method: 'GET',
      path: `/_cat/indices/${prefix}-*?format=json`,
    });
    const names = (indices.body as Array<{ index: string }>).map((i) => i.index).sort();
    expect(names).toEqual([...days].map((d) => `${prefix}-vpcflow-${d}`).sort());
    expect(await fieldType(`${prefix}-vpcflow-*`, 'source.ip')).toBe('ip');
    expect(await fieldType(`${prefix}-vpcflow-*`, 'network.bytes')).toBe('long');
    expect(await count(`${prefix}-vpcflow-*`)).toBe(20);
  });
});

describe('setup search command against a real OpenSearch node', () => {
  it('creates, then reports unchanged; a dry run of a changed config shows updates and changes nothing', async () => {
    const prefix = `${run}-setup`;
    const dir = mkdtempSync(join(tmpdir(), 'asc-setup-search-'));
    const file = join(dir, 'config.yml');
    const section = {
      flavour: 'opensearch',
      node,
      target: { mode: 'index', pattern: `${prefix}-{logType}` },
      setup: { templatePrefix: prefix },
    };
    const printed: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    const cli = async (...args: string[]): Promise<string> => {
      printed.length = 0;
      const program = new Command().exitOverride();
      registerCommands(program);
      await program.parseAsync(['setup', 'search', '--config', file, ...args], { from: 'user' });
      return printed.join('');
    };
    try {
      writeFileSync(file, toYaml({ sinks: { search: section } }));
      const first = await cli();
      // The final ingest pipeline (event.ingested), three component templates, two index templates.
      expect(first.match(/^created /gm)?.length).toBe(6);
      expect(first).toMatch(new RegExp(`^created +ingest pipeline +${prefix}-final`, 'm'));
      const second = await cli();
      expect(second.match(/^unchanged /gm)?.length).toBe(6);

      writeFileSync(
        file,
        toYaml({ sinks: { search: { ...section, setup: { templatePrefix: prefix, priority: 260 } } } }),
      );
      const plan = JSON.parse(await cli('--dry-run', '--json')) as {
        dryRun: boolean;
        results: Array<{ name: string; status: string; body?: { priority?: number } }>;
      };
      expect(plan.dryRun).toBe(true);
      const changes = plan.results.filter((r) => r.status !== 'unchanged');
      expect(changes.map((r) => [r.name, r.status])).toEqual([
        [`${prefix}-cloudtrail`, 'would-update'],
        [`${prefix}-vpcflow`, 'would-update'],
      ]);
      expect(changes[0]!.body?.priority).toBe(260);
      const stored = await admin.transport.request({
        method: 'GET',
        path: `/_index_template/${prefix}-cloudtrail`,
      });
      const template = (stored.body as { index_templates: Array<{ index_template: { priority: number } }> })
        .index_templates[0]!.index_template;
      expect(template.priority).toBe(250);
    } finally {
      spy.mockRestore();
      const client = createSearchClient(searchConfig({}));
      for (const kind of ['_index_template', '_component_template']) {
        for (const name of [`${prefix}-cloudtrail`, `${prefix}-vpcflow`]) {
          await client.request(
            'DELETE',
            `/${kind}/${kind === '_index_template' ? name : `${name}@mappings`}`,
          );
        }
      }
      await client.request('DELETE', `/_component_template/${prefix}@ecs`);
      await client.close();
    }
  });

  it('leaves templates it finds identical untouched when the sink starts', async () => {
    const prefix = `${run}-idem`;
    const config = searchConfig({
      target: { mode: 'index', pattern: `${prefix}-{logType}` },
      setup: { templatePrefix: prefix },
    });
    const client = createSearchClient(config);
    try {
      expect((await installTemplates(client, config)).every((r) => r.status === 'created')).toBe(true);
      expect((await installTemplates(client, config)).every((r) => r.status === 'unchanged')).toBe(true);
    } finally {
      for (const t of ['cloudtrail', 'vpcflow']) {
        await client.request('DELETE', `/_index_template/${prefix}-${t}`);
        await client.request('DELETE', `/_component_template/${prefix}-${t}@mappings`);
      }
      await client.request('DELETE', `/_component_template/${prefix}@ecs`);
      await client.close();
    }
  });
});

describe('search bench', () => {
  it('indexes the same documents through the sink and through helpers.bulk, and counts them all', async () => {
    const results = await benchSearch({ node, docs: 600 });
    expect(results.map((r) => r.name)).toEqual(['search sink', 'opensearch helpers.bulk']);
    for (const r of results) {
      expect(r.indexed).toBe(600);
      expect(r.docsPerSecond).toBeGreaterThan(0);
      expect(r.cpuMicrosPerDoc).toBeGreaterThan(0);
    }
    const left = await admin.transport.request({
      method: 'GET',
      path: '/_cat/indices/asc-bench-*?format=json',
    });
    // Other benches share the asc-bench- prefix; only this bench's indices must be gone.
    const ours = (left.body as Array<{ index: string }>)
      .map((i) => i.index)
      .filter((name) => /-w?(sink|helper)-(cloudtrail|vpcflow)$/.test(name));
    expect(ours).toEqual([]);
  });
});

describe('search sink against a real OpenSearch node: data streams per AWS account', () => {
  it("writes each account's documents to its namespace's data stream, the others to the default", async () => {
    const namespace = `${run}acct`;
    const tenant = `${run}tenant`;
    const config = validateConfig(
      {
        sinks: {
          search: {
            flavour: 'opensearch',
            node,
            flushIntervalMs: 50,
            target: { mode: 'datastream', namespace, accountNamespaces: { '444455556666': tenant } },
          },
        },
        mapping: { accountNames: { '123456789012': 'prod-payments' } },
      },
      'test',
    );
    const options = await ecsMapOptions(config);
    const raws: RawRecord[] = generateCloudTrailRecords({ seed: 77, count: 20 }).map((event, i) => ({
      logType: 'cloudtrail',
      origin: { bucket: 'b', key: `AWSLogs/o-1/CloudTrail/x${i}.json.gz`, record: i },
      event: {
        ...(event as Record<string, unknown>),
        recipientAccountId: i % 2 ? '444455556666' : '111122223333',
      },
    }));
    const documents = raws.map((raw) => ({
      id: documentId(raw),
      logType: 'cloudtrail' as const,
      doc: toEcs(raw, options),
      origin: raw.origin,
      account: recordAccount(raw),
    }));
    const tracked = track(documents);
    const sink = createSearchSink(config.sinks.search!, { logger: createLogger('silent') });
    await writeAll(sink, tracked.records);
    await sink.close();
    expect([...tracked.outcomes.values()].every((o) => o.length === 1 && o[0]!.kind === 'ack')).toBe(true);
    expect(await count(`logs-aws.cloudtrail-${tenant}`)).toBe(10);
    expect(await count(`logs-aws.cloudtrail-${namespace}`)).toBe(10);
    expect(
      await count(`logs-aws.cloudtrail-${tenant}`, {
        term: { 'aws.cloudtrail.recipient_account_id': '444455556666' },
      }),
    ).toBe(10);
    expect(await count(`logs-aws.cloudtrail-${tenant}`, { term: { 'data_stream.namespace': tenant } })).toBe(
      10,
    );
    // Account names beside the ids (mapping.accountNames), a keyword Kibana can filter and group on.
    const named = raws.filter(
      (r) =>
        r.logType === 'cloudtrail' &&
        (r.event.userIdentity as { accountId?: string })?.accountId === '123456789012',
    ).length;
    expect(named).toBeGreaterThan(0);
    expect(
      await count(`logs-aws.cloudtrail-${run}*`, { term: { 'cloud.account.name': 'prod-payments' } }),
    ).toBe(named);
    expect(await fieldType(`logs-aws.cloudtrail-${tenant}`, 'cloud.account.name')).toBe('keyword');

    // Plain indices take the account from the record: `{account}` in the pattern.
    const indexed = createSearchSink(
      searchConfig({
        target: { mode: 'index', pattern: `${run}-acct-{logType}-{account}`, op: 'create' },
        setup: { templatePrefix: `${run}-acct` },
      }),
      { logger: createLogger('silent') },
    );
    const again = track(documents);
    await writeAll(indexed, again.records);
    await indexed.close();
    expect(await count(`${run}-acct-cloudtrail-444455556666`)).toBe(10);
    expect(await count(`${run}-acct-cloudtrail-111122223333`)).toBe(10);
  });
});
