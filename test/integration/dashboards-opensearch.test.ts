import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  defaultDashboardsDir,
  loadDashboardSources,
  panelSearchRequest,
} from '../../src/dashboards/index.js';
import { serviceEndpoints } from '../services/endpoints.js';

/**
 * Every dashboard panel's search (what the Kibana visualisation asks for, as query DSL + aggregations)
 * runs against the real OpenSearch node over documents shaped like the connector's output, and must
 * return data. Index mappings come from dashboards/fields/ecs.yml.
 */

const dir = defaultDashboardsDir();
const sources = loadDashboardSources(path.join(dir, 'src'));
const types = parse(readFileSync(path.join(dir, 'fields/ecs.yml'), 'utf8')) as Record<
  string,
  Record<string, string>
>;
const suffix = `asc-dashboards-test-${process.pid}`;
const indexFor: Record<string, string> = {
  cloudtrail: `logs-aws.cloudtrail-${suffix}`,
  vpcflow: `logs-aws.vpcflow-${suffix}`,
  audit: `aws-siem-connector-audit-${suffix}`,
  health: `aws-siem-connector-metrics-${suffix}`,
};

function nested(flat: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flat)) {
    if (k === '@timestamp') {
      out[k] = v;
      continue;
    }
    const parts = k.split('.');
    let node = out;
    for (const p of parts.slice(0, -1)) {
      node[p] ??= {};
      node = node[p] as Record<string, unknown>;
    }
    node[parts.at(-1)!] = v;
  }
  return out;
}

function mapping(dataset: string): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [field, type] of Object.entries(types[dataset]!)) {
    const parts = field === '@timestamp' ? [field] : field.split('.');
    let node = properties;
    for (const p of parts.slice(0, -1)) {
      node[p] ??= { properties: {} };
      node = (node[p] as { properties: Record<string, unknown> }).properties;
    }
    node[parts.at(-1)!] = { type };
  }
  return { properties };
}

const now = Date.now();
const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();

/** Documents as the connector writes them: ECS CloudTrail and flow documents, audit and metrics records. */
const docs: Record<string, Record<string, unknown>[]> = {
  cloudtrail: [
    {
      '@timestamp': at(5),
      'event.provider': 'iam.amazonaws.com',
      'event.action': 'CreateAccessKey',
      'event.outcome': 'success',
      'cloud.region': 'us-east-1',
      'user.name': 'alice',
      'aws.cloudtrail.user_identity.type': 'IAMUser',
      'aws.cloudtrail.read_only': false,
      'source.ip': '198.51.100.7',
      'source.geo.location': { lat: 48.8, lon: 2.3 },
      'source.geo.country_iso_code': 'FR',
    },
    {
      '@timestamp': at(10),
      'event.provider': 'signin.amazonaws.com',
      'event.action': 'ConsoleLogin',
      'event.outcome': 'failure',
      'cloud.region': 'us-east-1',
      'user.name': 'bob',
      'aws.cloudtrail.user_identity.type': 'IAMUser',
      'aws.cloudtrail.console_login.additional_eventdata.mfa_used': false,
      'aws.cloudtrail.error_code': 'Failed authentication',
      'source.ip': '203.0.113.9',
      'source.geo.location': { lat: 40.7, lon: -74 },
      'source.geo.country_iso_code': 'US',
    },
    {
      '@timestamp': at(15),
      'event.provider': 'cloudtrail.amazonaws.com',
      'event.action': 'StopLogging',
      'event.outcome': 'success',
      'cloud.region': 'eu-west-1',
      'user.name': 'root',
      'aws.cloudtrail.user_identity.type': 'Root',
      'aws.cloudtrail.read_only': false,
      'source.ip': '203.0.113.9',
    },
    {
      '@timestamp': at(20),
      'event.provider': 'ec2.amazonaws.com',
      'event.action': 'AuthorizeSecurityGroupIngress',
      'event.outcome': 'failure',
      'aws.cloudtrail.error_code': 'UnauthorizedOperation',
      'cloud.region': 'eu-west-1',
      'user.name': 'alice',
      'aws.cloudtrail.user_identity.type': 'AssumedRole',
      'source.ip': '198.51.100.7',
    },
  ],
  vpcflow: [
    {
      '@timestamp': at(3),
      'source.ip': '10.0.1.5',
      'destination.ip': '93.184.216.34',
      'source.port': 44321,
      'destination.port': 443,
      'source.bytes': 52000,
      'network.bytes': 52000,
      'network.packets': 40,
      'network.transport': 'tcp',
      'event.action': 'ACCEPT',
      'event.outcome': 'success',
    },
    {
      '@timestamp': at(4),
      'source.ip': '203.0.113.50',
      'destination.ip': '10.0.1.5',
      'source.port': 51515,
      'destination.port': 22,
      'source.bytes': 60,
      'network.bytes': 60,
      'network.packets': 1,
      'network.transport': 'tcp',
      'event.action': 'REJECT',
      'event.outcome': 'failure',
    },
    {
      '@timestamp': at(6),
      'source.ip': '10.0.1.5',
      'destination.ip': '10.0.2.9',
      'source.port': 5353,
      'destination.port': 53,
      'source.bytes': 300,
      'network.bytes': 300,
      'network.packets': 3,
      'network.transport': 'udp',
      'event.action': 'ACCEPT',
      'event.outcome': 'success',
    },
  ],
  audit: [
    { '@timestamp': at(2), 'event.kind': 'alert', 'rule.name': 'AWS CloudTrail logging stopped' },
    {
      '@timestamp': at(2),
      'event.kind': 'event',
      'event.action': 'iam-disable-user',
      'event.outcome': 'success',
      'aws_siem_connector.response.mode': 'apply',
      'aws_siem_connector.response.target': 'root',
    },
    {
      '@timestamp': at(1),
      'event.kind': 'event',
      'event.action': 'waf-block-ip',
      'event.outcome': 'failure',
      'aws_siem_connector.response.mode': 'apply',
      'aws_siem_connector.response.target': '203.0.113.9',
    },
  ],
  health: [
    {
      '@timestamp': at(2),
      'host.name': 'consumer-1',
      'aws_siem_connector.sink.name': 'hec',
      'aws_siem_connector.records.shipped': 1200,
      'aws_siem_connector.records.dead_lettered': 1,
      'aws_siem_connector.objects.processed': 30,
      'aws_siem_connector.lag.seconds': 42.5,
    },
    {
      '@timestamp': at(1),
      'host.name': 'consumer-2',
      'aws_siem_connector.sink.name': 'search',
      'aws_siem_connector.records.shipped': 900,
      'aws_siem_connector.records.dead_lettered': 0,
      'aws_siem_connector.objects.processed': 25,
      'aws_siem_connector.lag.seconds': 12,
    },
  ],
};

let client: Client;
const dataStreams: string[] = [];

beforeAll(async () => {
  client = new Client({ node: serviceEndpoints().opensearch.url });
  for (const [dataset, index] of Object.entries(indexFor)) {
    // Where the connector's own index templates are installed (setup search), the logs-aws.* names are
    // data streams with the real ECS mappings; otherwise a plain index gets the mappings from ecs.yml.
    const created = await client.indices
      .create({ index, body: { mappings: mapping(dataset) } as never })
      .then(
        () => true,
        (e: Error) => {
          if (/data streams only/.test(e.message)) return false;
          throw e;
        },
      );
    if (!created) dataStreams.push(index);
    const body = docs[dataset]!.flatMap((d) => [{ create: { _index: index } }, nested(d)]);
    const res = await client.bulk({ body, refresh: true } as never);
    const items = res.body as { errors: boolean; items: unknown[] };
    expect(items.errors, JSON.stringify(items.items).slice(0, 2000)).toBe(false);
  }
});

afterAll(async () => {
  for (const index of Object.values(indexFor)) {
    if (dataStreams.includes(index))
      await client?.indices.deleteDataStream({ name: index }).catch(() => undefined);
    else await client?.indices.delete({ index }).catch(() => undefined);
  }
});

function firstBuckets(aggs: Record<string, any> | undefined): unknown[] | undefined {
  if (!aggs) return undefined;
  const top = Object.values(aggs)[0];
  return top?.buckets;
}

describe('dashboard panel searches on OpenSearch', () => {
  for (const spec of sources.dashboards) {
    for (const panel of spec.panels) {
      it(`${spec.id} / ${panel.id} returns data`, async () => {
        const request = panelSearchRequest(panel, sources.datasets[spec.dataset]!);
        // The data view's pattern must match the test index, as it would the connector's data streams.
        const pattern = new RegExp(`^${request.index.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`);
        expect(indexFor[spec.dataset]).toMatch(pattern);
        const body0 = request.body as { aggs?: Record<string, any> };
        if (panel.kind === 'map') {
          // Kibana runs geotile_grid on Elasticsearch; the embedded OpenSearch node has no geo aggregation
          // module, so here the grid becomes an exists filter on the same geo_point field.
          expect(body0.aggs?.grid?.geotile_grid?.field).toBe(panel.geo);
          body0.aggs = { grid: { filter: { exists: { field: panel.geo } } } };
        }
        const res = await client.search({ index: indexFor[spec.dataset]!, body: body0 as never });
        const body = res.body as { hits: { total: { value: number } }; aggregations?: Record<string, any> };
        expect(body.hits.total.value, 'matching documents').toBeGreaterThan(0);
        const buckets = firstBuckets(body.aggregations);
        if (panel.kind === 'map') expect(body.aggregations?.grid?.doc_count).toBeGreaterThan(0);
        else if (buckets) expect(buckets.length, 'buckets').toBeGreaterThan(0);
        else if (panel.metric.op !== 'count') expect(body.aggregations?.m?.value).toBeGreaterThan(0);
      });
    }
  }
});
