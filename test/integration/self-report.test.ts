import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLogger, createMetrics } from '../../src/observe/index.js';
import { hecReportTarget, SelfReporter, searchReportTarget } from '../../src/observe/self-report.js';
import type { AuditEntry } from '../../src/respond/index.js';
import { hecSinkConfigSchema } from '../../src/sink/hec/index.js';
import { createSearchClient, searchSinkConfigSchema } from '../../src/sink/search/index.js';
import { hecOutputOffset, serviceEndpoints, waitForHecEvents } from '../services/endpoints.js';
import { waitFor } from './support/aws.js';
import { openSearchClient } from './support/opensearch.js';

describe('self-reporting into the SIEM', () => {
  it('indexes audit entries, alerts and health samples with the fields the bundled dashboards read', async () => {
    const services = serviceEndpoints();
    const marker = `203.0.113.${Math.floor(Math.random() * 200) + 1}-${randomUUID().slice(0, 6)}`;
    const metrics = createMetrics();
    const search = createSearchClient(
      searchSinkConfigSchema.parse({ flavour: 'opensearch', node: services.opensearch.url }),
    );
    const hecConfig = hecSinkConfigSchema.parse({ urls: [services.hec.url], token: services.hec.token });
    const reporter = new SelfReporter({
      targets: [searchReportTarget(search), hecReportTarget(hecConfig, services.hec.token)],
      metrics,
      sinks: ['search'],
      log: createLogger('silent'),
    });
    const hecStart = hecOutputOffset();
    reporter.start(3600);
    await new Promise((r) => setTimeout(r, 50));

    const entry: AuditEntry = {
      time: new Date().toISOString(),
      event: 'applied',
      action: 'waf-block-ip',
      target: marker,
      alertId: 'kibana:abc',
      requester: { source: 'kibana', rule: 'Console sign-in failures burst from one source IP' },
      dryRun: false,
      changes: [`added ${marker}/32 to blocklist`],
      requestIds: ['req-1'],
    };
    reporter.write(entry);
    reporter.alert({
      rule: 'Console sign-in failures burst from one source IP',
      id: 'kibana:abc',
      route: 'kibana',
    });
    metrics.sinkRecords.inc({ sink: 'search', outcome: 'acked' }, 42);
    metrics.objects.inc({ log_type: 'cloudtrail', outcome: 'delivered' }, 3);
    await reporter.tick();

    const os = openSearchClient();
    await waitFor('the audit documents', async () => {
      await os.indices.refresh({ index: 'aws-siem-connector-*' });
      const res = await os.search({
        index: 'aws-siem-connector-audit-*',
        body: { query: { term: { 'aws_siem_connector.response.target': marker } } },
      });
      return (res.body.hits.total as { value: number }).value === 1;
    });
    const audit = await os.search({
      index: 'aws-siem-connector-audit-*',
      body: { query: { term: { 'aws_siem_connector.response.target': marker } } },
    });
    const doc = audit.body.hits.hits[0]!._source as Record<string, any>;
    expect(doc.event).toMatchObject({ action: 'waf-block-ip', outcome: 'success' });
    expect(doc.rule.name).toBe('Console sign-in failures burst from one source IP');
    expect(doc.aws_siem_connector.response).toMatchObject({ mode: 'apply', target: marker });

    const health = await os.search({
      index: 'aws-siem-connector-metrics-*',
      body: { query: { term: { 'aws_siem_connector.records.shipped': 42 } } },
    });
    expect((health.body.hits.total as { value: number }).value).toBeGreaterThanOrEqual(1);
    const sample = health.body.hits.hits[0]!._source as Record<string, any>;
    expect(sample.aws_siem_connector).toMatchObject({ sink: { name: 'search' } });
    // The process's own figures come once per report, not once per sink (the dashboards sum them).
    const processWide = await os.search({
      index: 'aws-siem-connector-metrics-*',
      body: { query: { term: { 'aws_siem_connector.objects.processed': 3 } } },
    });
    const processDocs = processWide.body.hits.hits.map(
      (h) => (h._source as Record<string, any>).aws_siem_connector,
    );
    expect(processDocs.length).toBeGreaterThanOrEqual(1);
    expect(processDocs.every((d) => d.sink === undefined)).toBe(true);

    const atHec = await waitForHecEvents(2, {
      sinceOffset: hecStart,
      timeoutMs: 20_000,
      match: (e) =>
        e.sourcetype === 'aws-siem-connector:audit' &&
        (JSON.stringify(e.event).includes(marker) || JSON.stringify(e.event).includes('alert-received')),
    });
    expect(atHec.map((e) => (e.event as { event: { action: string } }).event.action).sort()).toEqual([
      'alert-received',
      'waf-block-ip',
    ]);
    await reporter.close();
    await search.close();
  });
});
