import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  defaultDashboardsDir,
  loadDashboardSources,
  panelFields,
  panelSpl,
  renderDashboards,
  toKql,
} from '../../../src/dashboards/index.js';
import { dashboardSplFields } from '../../../src/dashboards/queries.js';
import { viewSearches } from './view-searches.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = defaultDashboardsDir();
const sources = loadDashboardSources(path.join(dir, 'src'));
const ecsFields = parse(readFileSync(path.join(dir, 'fields/ecs.yml'), 'utf8')) as Record<
  string,
  Record<string, string>
>;
const splunkFields = parse(readFileSync(path.join(dir, 'fields/splunk.yml'), 'utf8')) as Record<
  string,
  Record<string, string[]>
>;

interface SavedObjectLine {
  type: string;
  id: string;
  attributes: Record<string, any>;
  references: { name: string; type: string; id: string }[];
  coreMigrationVersion: string;
  typeMigrationVersion: string;
}

const ndjson = (file: string): SavedObjectLine[] =>
  readFileSync(path.join(dir, file), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

/** Fields a saved object actually reads: aggregation fields, the KQL query's fields, map geo fields. */
function fieldsUsed(o: SavedObjectLine): string[] {
  const out: string[] = [];
  const kqlFields = (q: string) => [...q.matchAll(/(?:^|and |not )([\w.@]+):/g)].map((m) => m[1]!);
  if (o.type === 'visualization') {
    const vis = JSON.parse(o.attributes.visState);
    for (const a of vis.aggs) if (a.params.field) out.push(a.params.field);
    out.push(...kqlFields(JSON.parse(o.attributes.kibanaSavedObjectMeta.searchSourceJSON).query.query));
  }
  if (o.type === 'map') {
    for (const l of JSON.parse(o.attributes.layerListJSON)) {
      if (l.sourceDescriptor.geoField) out.push(l.sourceDescriptor.geoField);
      if (l.query) out.push(...kqlFields(l.query.query));
    }
  }
  return out;
}

describe('generated dashboards', () => {
  it('the committed artefacts are exactly what the sources generate', () => {
    const files = renderDashboards(dir);
    expect(files.length).toBe(sources.dashboards.length * 2);
    for (const f of files) expect(readFileSync(path.join(dir, f.path), 'utf8'), f.path).toBe(f.content);
  });

  it('covers the five dashboards of the issue', () => {
    expect(sources.dashboards.map((d) => d.id).sort()).toEqual([
      'aws-siem-connector-cloudtrail-overview',
      'aws-siem-connector-detections-response',
      'aws-siem-connector-health',
      'aws-siem-connector-iam-security-changes',
      'aws-siem-connector-vpc-flows',
    ]);
  });
});

describe('Kibana saved objects', () => {
  for (const spec of sources.dashboards) {
    const objects = ndjson(`kibana/${spec.id}.ndjson`);

    it(`${spec.id}: every line is a complete 8.x saved object and every reference resolves in the file`, () => {
      const ids = new Set(objects.map((o) => `${o.type}:${o.id}`));
      for (const o of objects) {
        expect(Object.keys(o)).toEqual(expect.arrayContaining(['type', 'id', 'attributes', 'references']));
        expect(o.coreMigrationVersion).toMatch(/^8\.\d+\.\d+$/);
        expect(o.typeMigrationVersion).toMatch(/^8\.\d+\.\d+$/);
        expect(typeof o.attributes.title).toBe('string');
        for (const r of o.references)
          expect(ids.has(`${r.type}:${r.id}`), `${o.id} → ${r.type}:${r.id}`).toBe(true);
      }
      const dashboard = objects.find((o) => o.type === 'dashboard')!;
      const panels = JSON.parse(dashboard.attributes.panelsJSON) as {
        panelRefName: string;
        panelIndex: string;
      }[];
      expect(panels).toHaveLength(spec.panels.length);
      for (const p of panels) {
        expect(dashboard.references.map((r) => r.name)).toContain(`${p.panelIndex}:${p.panelRefName}`);
      }
      const dataView = objects.find((o) => o.type === 'index-pattern')!;
      expect(dataView.attributes.title).toBe(sources.datasets[spec.dataset]!.kibana.indexPattern);
    });

    it(`${spec.id}: every field a panel uses is in the dataset's ECS field list`, () => {
      const known = ecsFields[spec.dataset]!;
      const used = objects.flatMap(fieldsUsed);
      expect(used.length).toBeGreaterThan(0);
      for (const f of used) expect(known, `${spec.id}: ${f}`).toHaveProperty([f]);
      for (const p of spec.panels) for (const f of panelFields(p)) expect(known).toHaveProperty([f]);
    });
  }

  it('the data view patterns are the Elastic AWS integration data streams', () => {
    expect(sources.datasets.cloudtrail!.kibana.indexPattern).toBe('logs-aws.cloudtrail-*');
    expect(sources.datasets.vpcflow!.kibana.indexPattern).toBe('logs-aws.vpcflow-*');
  });

  const searchFields = path.join(repo, 'mappings/search/fields.yml');
  it.skipIf(!existsSync(searchFields))(
    'the CloudTrail and VPC field lists agree with the index templates (mappings/search)',
    () => {
      const tpl = parse(readFileSync(searchFields, 'utf8')) as Record<
        string,
        { ecs?: string[]; fields?: Record<string, unknown> }
      >;
      const names = (k: string) => new Set([...(tpl[k]?.ecs ?? []), ...Object.keys(tpl[k]?.fields ?? {})]);
      for (const dataset of ['cloudtrail', 'vpcflow']) {
        const known = new Set([...names('common'), ...names(dataset)]);
        for (const f of Object.keys(ecsFields[dataset]!)) expect(known.has(f), `${dataset}: ${f}`).toBe(true);
      }
    },
  );
});

describe('Splunk views', () => {
  for (const spec of sources.dashboards) {
    const dataset = sources.datasets[spec.dataset]!;
    const sourcetype = /sourcetype="([^"]+)"/.exec(dataset.splunk.search)![1]!;

    it(`${spec.id}: every SPL field is a raw, add-on (CIM) or search-made field of ${sourcetype}`, () => {
      const vocabulary = new Set(Object.values(splunkFields[sourcetype] ?? {}).flat());
      expect(vocabulary.size).toBeGreaterThan(0);
      for (const f of dashboardSplFields(spec, dataset))
        expect(vocabulary.has(f), `${spec.id}: ${f}`).toBe(true);
    });

    it(`${spec.id}: the view is a Dashboard Studio definition with one search per panel`, () => {
      const xml = readFileSync(path.join(dir, `splunk/${spec.id.replace(/-/g, '_')}.xml`), 'utf8');
      expect(xml).toMatch(/^<dashboard version="2" theme="dark">/);
      const json = /<definition><!\[CDATA\[([\s\S]*)\]\]><\/definition>/.exec(xml)![1]!;
      const def = JSON.parse(json);
      expect(Object.keys(def.dataSources)).toHaveLength(spec.panels.length);
      for (const p of spec.panels) {
        const ds = def.dataSources[`ds_${p.id.replace(/-/g, '_')}`];
        expect(ds.options.query).toBe(panelSpl(p, dataset));
        expect(ds.options.query.startsWith(dataset.splunk.search)).toBe(true);
      }
      expect(def.layout.structure).toHaveLength(spec.panels.length);
    });
  }
});

describe('Splunk views restricted to indexes (--splunk-index)', () => {
  const splunkViews = (files: { path: string; content: string }[]) =>
    files.filter((f) => f.path.startsWith('splunk/'));
  const panels = sources.dashboards.reduce((n, d) => n + d.panels.length, 0);

  it('every search of every view reads exactly the given indexes', () => {
    const views = splunkViews(renderDashboards(dir, { splunkIndexes: ['aws_cloudtrail', 'aws-vpcflow'] }));
    expect(views).toHaveLength(sources.dashboards.length);
    const searches = views.flatMap((v) => viewSearches(v.content));
    expect(searches).toHaveLength(panels);
    for (const q of searches) {
      expect(q).toMatch(/^index IN \(aws_cloudtrail, aws-vpcflow\) sourcetype="[^"]+"/);
      expect(q).not.toContain('index=*');
      expect(q.match(/\bindex\b/g)).toHaveLength(1);
    }
    // One index takes the rules' form too.
    const one = splunkViews(renderDashboards(dir, { splunkIndexes: ['aws_cloudtrail'] }));
    for (const q of one.flatMap((v) => viewSearches(v.content)))
      expect(q).toMatch(/^index IN \(aws_cloudtrail\) /);
  });

  it('without indexes (or with none) the views are the shipped ones, and Kibana is never affected', () => {
    const plain = renderDashboards(dir);
    expect(renderDashboards(dir, { splunkIndexes: [] })).toEqual(plain);
    for (const v of splunkViews(plain)) {
      for (const q of viewSearches(v.content)) {
        expect(q).toMatch(/^index=\* sourcetype=/);
        expect(q).not.toContain('index IN');
      }
    }
    const restricted = renderDashboards(dir, { splunkIndexes: ['aws_cloudtrail'] });
    const kibana = (files: typeof plain) => files.filter((f) => f.path.startsWith('kibana/'));
    expect(kibana(restricted)).toEqual(kibana(plain));
  });

  it('narrows a dataset search that names indexes of its own instead of replacing them', () => {
    const p = sources.dashboards.find((d) => d.dataset === 'cloudtrail')!.panels[0]!;
    const ct = sources.datasets.cloudtrail!;
    const own = { ...ct, splunk: { search: 'index=aws sourcetype="aws:cloudtrail"' } };
    expect(panelSpl(p, own, ['a', 'b'])).toMatch(/^index IN \(a, b\) index=aws sourcetype="aws:cloudtrail"/);
    expect(panelSpl(p, ct, ['a'])).toBe(panelSpl(p, ct).replace(/^index=\*/, 'index IN (a)'));
  });
});

describe('query rendering', () => {
  const vpc = sources.datasets.vpcflow!;
  const clauses = [
    { field: 'source.ip', is: ['10.0.0.0/8', '192.168.0.0/16'] },
    { field: 'destination.ip', not: '10.0.0.0/8' },
    { field: 'event.action', is: 'REJECT' },
  ];

  it('KQL', () => {
    expect(toKql(clauses)).toBe(
      'source.ip: ("10.0.0.0/8" or "192.168.0.0/16") and not destination.ip: "10.0.0.0/8" and event.action: "REJECT"',
    );
  });

  it('SPL uses the add-on field names and maps values the data spells differently', () => {
    const p = {
      id: 'x',
      title: 'x',
      kind: 'table' as const,
      time: false,
      split: ['destination.port'],
      size: 5,
      metric: { op: 'sum' as const, field: 'network.bytes' },
      filter: clauses,
    };
    expect(panelSpl(p, vpc)).toBe(
      'index=* sourcetype="aws:cloudwatchlogs:vpcflow" (src_ip="10.0.0.0/8" OR src_ip="192.168.0.0/16") NOT dest_ip="10.0.0.0/8" vpcflow_action="REJECT" | stats sum(bytes) as sum_bytes by dest_port | sort - sum_bytes | head 5',
    );
    const ct = sources.datasets.cloudtrail!;
    const mfa = {
      id: 'y',
      title: 'y',
      kind: 'metric' as const,
      time: false,
      split: [],
      size: 1,
      metric: { op: 'count' as const },
      filter: [{ field: 'aws.cloudtrail.console_login.additional_eventdata.mfa_used', is: false }],
    };
    expect(panelSpl(mfa, ct)).toBe(
      'index=* sourcetype="aws:cloudtrail" additionalEventData.MFAUsed="No" | stats count',
    );
  });

  it('rejects a source whose panel uses a field with no Splunk spelling, naming dashboard, panel and field', async () => {
    const { mkdtempSync, writeFileSync, copyFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const tmp = mkdtempSync(path.join(tmpdir(), 'asc-dash-'));
    copyFileSync(path.join(dir, 'src/datasets.yml'), path.join(tmp, 'datasets.yml'));
    writeFileSync(
      path.join(tmp, 'bad.yml'),
      'id: bad\ntitle: Bad\ndataset: vpcflow\npanels:\n  - { id: p1, title: P, kind: pie, split: no.such.field }\n',
    );
    expect(() => loadDashboardSources(tmp)).toThrow(/dashboard bad panel p1: field no\.such\.field/);
  });
});
