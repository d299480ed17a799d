import { describe, expect, it } from 'vitest';
import { buildArtefacts, installTemplates, type JsonResponse } from '../../../../src/sink/search/index.js';
import { loadFieldTable, mappedFieldTypes } from '../../../../src/sink/search/templates.js';
import { config, FakeClient } from './support.js';

type Mapping = Record<string, any>;

function leaf(properties: Mapping, dotted: string): Mapping | undefined {
  const parts = dotted.split('.');
  let node: Mapping | undefined = { properties };
  for (const part of parts) node = node?.properties?.[part];
  return node;
}

describe('template artefacts', () => {
  it('builds component templates whose ECS types come from the ECS schema and AWS types from the table', () => {
    const artefacts = buildArtefacts(config({ flavour: 'elasticsearch' }));
    const common = artefacts.find((a) => a.name === 'aws-siem-connector@ecs')!.body as Mapping;
    const ct = artefacts.find((a) => a.name === 'aws-siem-connector-cloudtrail@mappings')!.body as Mapping;
    const flow = artefacts.find((a) => a.name === 'aws-siem-connector-vpcflow@mappings')!.body as Mapping;
    const cp = common.template.mappings.properties;
    expect(leaf(cp, '@timestamp')).toEqual({ type: 'date' });
    expect(leaf(cp, 'source.ip')).toEqual({ type: 'ip' });
    expect(leaf(cp, 'source.port')).toEqual({ type: 'long' });
    expect(leaf(cp, 'message')).toEqual({ type: 'match_only_text' });
    expect(leaf(cp, 'event.original')).toEqual({ type: 'keyword', index: false, doc_values: false });
    expect(leaf(cp, 'source.as.organization.name')).toEqual({
      type: 'keyword',
      ignore_above: 1024,
      fields: { text: { type: 'match_only_text' } },
    });
    const ctp = ct.template.mappings.properties;
    expect(leaf(ctp, 'aws.cloudtrail.flattened.request_parameters')).toEqual({ type: 'flattened' });
    expect(leaf(ctp, 'aws.cloudtrail.request_parameters')).toMatchObject({
      type: 'keyword',
      ignore_above: 8191,
    });
    expect(leaf(ctp, 'aws.cloudtrail.read_only')).toEqual({ type: 'boolean' });
    expect(leaf(flow.template.mappings.properties, 'aws.vpcflow.pkt_srcaddr')).toEqual({ type: 'ip' });
    expect(leaf(flow.template.mappings.properties, 'destination.port')).toMatchObject({ type: 'long' });
  });

  it('translates types OpenSearch lacks', () => {
    const artefacts = buildArtefacts(config({ flavour: 'opensearch' }));
    const ct = artefacts.find((a) => a.name === 'aws-siem-connector-cloudtrail@mappings')!.body as Mapping;
    const common = artefacts.find((a) => a.name === 'aws-siem-connector@ecs')!.body as Mapping;
    expect(leaf(ct.template.mappings.properties, 'aws.cloudtrail.flattened.digest')).toEqual({
      type: 'flat_object',
    });
    expect(leaf(common.template.mappings.properties, 'message')).toEqual({ type: 'text' });
    expect(leaf(common.template.mappings.properties, 'data_stream.dataset')).toMatchObject({
      type: 'keyword',
    });
    expect(JSON.stringify(artefacts)).not.toMatch(
      /"type":"(flattened|match_only_text|constant_keyword|wildcard)"/,
    );
  });

  it("maps the object fields Filebeat's input adds (aws.s3.*, log.file.path) as keyword on both flavours", () => {
    for (const flavour of ['elasticsearch', 'opensearch'] as const) {
      const common = buildArtefacts(config({ flavour })).find((a) => a.name === 'aws-siem-connector@ecs')!
        .body as Mapping;
      const properties = common.template.mappings.properties;
      for (const field of ['aws.s3.bucket.name', 'aws.s3.object.key'])
        expect(leaf(properties, field), `${flavour} ${field}`).toEqual({ type: 'keyword' });
      expect(leaf(properties, 'log.file.path'), flavour).toMatchObject({ type: 'keyword' });
    }
  });

  it('declares data streams in datastream mode and plain index patterns in index mode', () => {
    const ds = buildArtefacts(config());
    const dsTemplate = ds.find((a) => a.name === 'aws-siem-connector-cloudtrail')!.body;
    expect(dsTemplate).toMatchObject({
      index_patterns: ['logs-aws.cloudtrail-*'],
      data_stream: {},
      priority: 250,
      composed_of: ['aws-siem-connector@ecs', 'aws-siem-connector-cloudtrail@mappings'],
    });
    const ix = buildArtefacts(config({ target: { mode: 'index', pattern: 'aws-{logType}-{yyyy.MM.dd}' } }));
    const ixTemplate = ix.find((a) => a.name === 'aws-siem-connector-vpcflow')!.body;
    expect(ixTemplate.index_patterns).toEqual(['aws-vpcflow-*']);
    expect(ixTemplate.data_stream).toBeUndefined();
  });

  it('adds an ILM policy for Elasticsearch and an ISM policy for OpenSearch when retention is configured', () => {
    const lifecycle = { deleteAfterDays: 30 };
    const es = buildArtefacts(config({ flavour: 'elasticsearch', setup: { auto: false, lifecycle } }));
    expect(es[0]).toMatchObject({
      kind: 'lifecycle_policy',
      body: { policy: { phases: { delete: { min_age: '30d' } } } },
    });
    const common = es.find((a) => a.kind === 'component_template')!;
    expect((common.body as Mapping).template.settings['index.lifecycle.name']).toBe(
      'aws-siem-connector-logs',
    );
    const os = buildArtefacts(config({ flavour: 'opensearch', setup: { auto: false, lifecycle } }));
    expect(os[0]!.body).toMatchObject({
      policy: { ism_template: [{ index_patterns: ['.ds-logs-aws.cloudtrail-*', '.ds-logs-aws.vpcflow-*'] }] },
    });
  });

  it('rolls over data streams, but deletes plain indices by age alone: they have no rollover alias', () => {
    const setup = { auto: false, lifecycle: { deleteAfterDays: 14, rolloverMaxAge: '2d' } };
    const index = { mode: 'index' as const, pattern: 'aws-{logType}-{yyyy.MM.dd}' };
    const policyOf = (flavour: 'elasticsearch' | 'opensearch', target?: typeof index) => {
      const artefacts = buildArtefacts(config({ flavour, setup, ...(target ? { target } : {}) }));
      const policy = artefacts.find((a) => a.kind === 'lifecycle_policy')!.body.policy as Mapping;
      return { policy, text: JSON.stringify(policy) };
    };

    const esStream = policyOf('elasticsearch');
    expect(esStream.policy.phases.hot.actions.rollover).toMatchObject({ max_age: '2d' });
    expect(esStream.policy.phases.delete).toEqual({ min_age: '14d', actions: { delete: {} } });
    const esIndex = policyOf('elasticsearch', index);
    expect(esIndex.text).not.toContain('rollover');
    expect(esIndex.policy.phases.hot).toEqual({ actions: {} });
    expect(esIndex.policy.phases.delete).toEqual({ min_age: '14d', actions: { delete: {} } });

    const osStream = policyOf('opensearch');
    expect(osStream.policy.states[0].actions[0].rollover).toMatchObject({ min_index_age: '2d' });
    const osIndex = policyOf('opensearch', index);
    expect(osIndex.text).not.toContain('rollover');
    expect(osIndex.policy.states).toEqual([
      {
        name: 'hot',
        actions: [],
        transitions: [{ state_name: 'delete', conditions: { min_index_age: '14d' } }],
      },
      { name: 'delete', actions: [{ delete: {} }], transitions: [] },
    ]);
    expect(osIndex.policy.ism_template).toEqual([
      { index_patterns: ['aws-cloudtrail-*', 'aws-vpcflow-*'], priority: 250 },
    ]);
  });

  it('stamps event.ingested through a final pipeline on every index, in both modes and on both servers', () => {
    for (const flavour of ['elasticsearch', 'opensearch'] as const) {
      for (const target of [undefined, { mode: 'index' as const, pattern: 'aws-{logType}-{yyyy.MM.dd}' }]) {
        const artefacts = buildArtefacts(config({ flavour, ...(target ? { target } : {}) }));
        const pipeline = artefacts.find((a) => a.kind === 'ingest_pipeline')!;
        expect(pipeline.name).toBe('aws-siem-connector-final');
        expect(pipeline.body.processors).toEqual([
          { set: { field: 'event.ingested', value: '{{_ingest.timestamp}}' } },
        ]);
        const common = artefacts.find((a) => a.name === 'aws-siem-connector@ecs')!.body as Mapping;
        expect(common.template.settings['index.final_pipeline']).toBe('aws-siem-connector-final');
        // Every index template takes its settings from the common component.
        for (const t of artefacts.filter((a) => a.kind === 'index_template'))
          expect(t.body.composed_of).toContain('aws-siem-connector@ecs');
        // Installed before the templates that name it.
        const kinds = artefacts.map((a) => a.kind);
        expect(kinds.indexOf('ingest_pipeline')).toBeLessThan(kinds.indexOf('component_template'));
        expect(leaf(common.template.mappings.properties, 'event.ingested')).toMatchObject({ type: 'date' });
      }
    }
  });

  it('lists each field once and maps every listed field', () => {
    const table = loadFieldTable();
    const types = mappedFieldTypes(table, 'cloudtrail');
    expect(types.get('source.ip')).toBe('ip');
    expect(types.get('aws.cloudtrail.user_identity.session_context.creation_date')).toBe('date');
    expect(mappedFieldTypes(table, 'vpcflow').get('network.bytes')).toBe('long');
  });
});

describe('installTemplates', () => {
  /** A template store that keeps what was PUT and answers GETs like the servers do. */
  function store(): { client: FakeClient; puts: string[] } {
    const saved = new Map<string, Mapping>();
    const puts: string[] = [];
    const client = new FakeClient(undefined, (method, path, body): JsonResponse => {
      const key = path.split('?')[0]!;
      if (method === 'PUT') {
        puts.push(key);
        saved.set(key, body as Mapping);
        return { status: 200, body: { acknowledged: true } };
      }
      const stored = saved.get(key);
      if (!stored) return { status: 404, body: {} };
      const name = decodeURIComponent(key.split('/').pop()!);
      if (key.startsWith('/_ingest/pipeline/')) return { status: 200, body: { [name]: stored } };
      // Servers add their own defaults; our comparison must not be fooled by them.
      if (key.startsWith('/_component_template/')) {
        return {
          status: 200,
          body: { component_templates: [{ name, component_template: { ...stored, version: null } }] },
        };
      }
      return {
        status: 200,
        body: {
          index_templates: [
            { name, index_template: { ...stored, data_stream: { timestamp_field: { name: '@timestamp' } } } },
          ],
        },
      };
    });
    return { client, puts };
  }

  it('creates everything once, then reports unchanged and writes nothing', async () => {
    const { client, puts } = store();
    const cfg = config();
    const first = await installTemplates(client, cfg);
    expect(first.map((r) => r.status)).toEqual(Array(6).fill('created'));
    expect(puts[0]).toBe('/_ingest/pipeline/aws-siem-connector-final');
    expect(puts.slice(-2)).toEqual([
      '/_index_template/aws-siem-connector-cloudtrail',
      '/_index_template/aws-siem-connector-vpcflow',
    ]);
    const second = await installTemplates(client, cfg);
    expect(second.map((r) => r.status)).toEqual(Array(6).fill('unchanged'));
    expect(puts.length).toBe(6);
  });

  it('updates only what changed, and a dry run writes nothing', async () => {
    const { client, puts } = store();
    await installTemplates(client, config());
    const changed = config({ setup: { auto: false, priority: 300 } });
    const plan = await installTemplates(client, changed, { dryRun: true });
    expect(plan.filter((r) => r.status !== 'unchanged')).toEqual([
      { kind: 'index_template', name: 'aws-siem-connector-cloudtrail', status: 'would-update' },
      { kind: 'index_template', name: 'aws-siem-connector-vpcflow', status: 'would-update' },
    ]);
    expect(puts.length).toBe(6);
    const applied = await installTemplates(client, changed);
    expect(applied.filter((r) => r.status === 'updated').length).toBe(2);
    expect(puts.length).toBe(8);
  });

  it('names the template and the server reason when the server refuses', async () => {
    const client = new FakeClient(undefined, (method) =>
      method === 'GET'
        ? { status: 404, body: {} }
        : {
            status: 400,
            body: { error: { type: 'illegal_argument_exception', reason: 'unknown parameter [x]' } },
          },
    );
    await expect(installTemplates(client, config())).rejects.toMatchObject({
      code: 'SEARCH_SETUP',
      message: expect.stringContaining(
        'aws-siem-connector-final: HTTP 400: illegal_argument_exception: unknown parameter [x]',
      ),
    });
  });
});
