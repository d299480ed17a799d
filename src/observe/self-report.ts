import { hostname } from 'node:os';
import type { Dispatcher } from 'undici';
import { errorMessage } from '../errors.js';
import type { AuditEntry, AuditSink } from '../respond/audit.js';
import type { HecSinkConfig } from '../sink/hec/config.js';
import { Endpoint, Lane, laneDispatcher } from '../sink/hec/transport.js';
import type { SearchClient } from '../sink/search/client.js';
import { type Logger, maskToken } from './logger.js';
import type { Metrics } from './metrics.js';

/**
 * The connector reports on itself into the SIEM it feeds, so that the bundled "detections and response
 * actions" and "connector health" dashboards have data: audit entries of response actions, and health
 * samples (records shipped per sink; objects, dead letters and lag for the process) every interval.
 * Documents use ECS-style keys and the same shape in both SIEMs: indices `aws-siem-connector-audit-*` /
 * `-metrics-*` in Elasticsearch/OpenSearch, sourcetypes `aws-siem-connector:audit` / `:metrics` in Splunk.
 */
export type ReportKind = 'audit' | 'metrics';
export type ReportDocument = Record<string, unknown> & { '@timestamp': string };

export interface ReportTarget {
  send(kind: ReportKind, docs: ReportDocument[]): Promise<void>;
  /** Releases connections the target opened itself. */
  close?(): Promise<void>;
}

/** An audit entry as the dashboards read it. */
export function auditDocument(entry: AuditEntry, host = hostname()): ReportDocument {
  const failed = entry.event === 'failed';
  const done = entry.event === 'applied' || entry.event === 'undone' || entry.event === 'unchanged';
  return {
    '@timestamp': entry.time,
    event: {
      kind: 'event',
      category: ['configuration'],
      type: ['change'],
      action: entry.action,
      outcome: failed ? 'failure' : done ? 'success' : 'unknown',
      ...(entry.reason ? { reason: entry.reason } : {}),
    },
    host: { name: host },
    ...(entry.requester.rule ? { rule: { name: entry.requester.rule } } : {}),
    aws_siem_connector: {
      response: {
        mode: entry.dryRun
          ? 'plan'
          : entry.event === 'undone' || entry.event === 'undoing'
            ? 'undo'
            : 'apply',
        status: entry.event,
        target: entry.target,
        ...(entry.alertId ? { alert_id: entry.alertId } : {}),
        source: entry.requester.source,
        changes: entry.changes,
        ...(entry.requestIds?.length ? { request_ids: entry.requestIds } : {}),
      },
    },
    ...(entry.error
      ? { error: { message: entry.error.message, ...(entry.error.code ? { code: entry.error.code } : {}) } }
      : {}),
  };
}

/** An alert the webhook accepted, for the "alerts received" panels. */
export function alertDocument(
  alert: { rule: string; id?: string | undefined; route: string },
  now = new Date(),
  host = hostname(),
): ReportDocument {
  return {
    '@timestamp': now.toISOString(),
    event: { kind: 'alert', action: 'alert-received', outcome: 'success' },
    host: { name: host },
    rule: { name: alert.rule },
    aws_siem_connector: { alert: { route: alert.route, ...(alert.id ? { id: alert.id } : {}) } },
  };
}

type CounterSnapshot = Map<string, number>;

/** Counter values now, and the worst lag since the previous snapshot (taking it starts a new interval). */
export interface HealthSnapshot {
  counters: CounterSnapshot;
  lagMax?: number;
}

async function snapshot(metrics: Metrics): Promise<HealthSnapshot> {
  const counters: CounterSnapshot = new Map();
  const lagMax = metrics.lag.takePeak();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    for (const value of metric.values as {
      value: number;
      labels: Record<string, unknown>;
      metricName?: string;
    }[]) {
      const labels = Object.entries(value.labels)
        .map(([k, v]) => `${k}=${String(v)}`)
        .sort()
        .join(',');
      counters.set(`${value.metricName ?? metric.name}{${labels}}`, value.value);
    }
  }
  return lagMax === undefined ? { counters } : { counters, lagMax };
}

function delta(now: CounterSnapshot, before: CounterSnapshot, match: (key: string) => boolean): number {
  let total = 0;
  for (const [key, value] of now) if (match(key)) total += value - (before.get(key) ?? 0);
  return total;
}

/**
 * Health samples for one interval, from the difference of two snapshots: one process document with the
 * figures of the whole process (objects processed, records dead-lettered, the worst lag of the interval),
 * and one document per sink with that sink's own (records shipped). Each figure is in exactly one
 * document, so the dashboards' sums over all documents count it once however many sinks there are. A
 * process without sinks (the webhook) ships nothing and reports no health.
 */
export function healthDocuments(
  now: HealthSnapshot,
  before: HealthSnapshot,
  sinks: readonly string[],
  time = new Date(),
  host = hostname(),
): ReportDocument[] {
  if (sinks.length === 0) return [];
  const common = {
    '@timestamp': time.toISOString(),
    event: { kind: 'metric', module: 'aws-siem-connector' },
    host: { name: host },
  };
  const processDoc: ReportDocument = {
    ...common,
    aws_siem_connector: {
      scope: 'process',
      objects: { processed: delta(now.counters, before.counters, (k) => k.startsWith('asc_objects_total{')) },
      records: {
        dead_lettered: delta(now.counters, before.counters, (k) => k.startsWith('asc_dead_letters_total{')),
      },
      // Only when records were delivered in the interval: an idle connector is not behind.
      ...(now.lagMax === undefined ? {} : { lag: { max_seconds: now.lagMax } }),
    },
  };
  const sinkDocs = sinks.map(
    (sink): ReportDocument => ({
      ...common,
      aws_siem_connector: {
        scope: 'sink',
        sink: { name: sink },
        records: {
          shipped: delta(
            now.counters,
            before.counters,
            (k) =>
              k.startsWith('asc_sink_records_total{') &&
              k.includes(`sink=${sink}`) &&
              k.includes('outcome=acked'),
          ),
        },
      },
    }),
  );
  return [processDoc, ...sinkDocs];
}

/**
 * Indexes report documents into monthly indices, e.g. `aws-siem-connector-audit-2026.11`. An index
 * template (put once, idempotent) maps every string as a keyword, so the dashboards' terms and filters
 * work on them.
 */
export function searchReportTarget(client: SearchClient, prefix = 'aws-siem-connector'): ReportTarget {
  let template: Promise<void> | undefined;
  const putTemplate = async () => {
    const res = await client.request('PUT', `/_index_template/${prefix}-reports`, {
      index_patterns: [`${prefix}-audit-*`, `${prefix}-metrics-*`],
      priority: 250,
      template: {
        mappings: {
          dynamic_templates: [
            {
              strings_as_keyword: {
                match_mapping_type: 'string',
                mapping: { type: 'keyword', ignore_above: 1024 },
              },
            },
          ],
          properties: {
            '@timestamp': { type: 'date' },
            // JSON has no float type: a first sample of 3 s would map the field as long, cutting 0.4 s off.
            aws_siem_connector: {
              properties: { lag: { properties: { max_seconds: { type: 'double' } } } },
            },
          },
        },
      },
    });
    if (res.status >= 300) throw new Error(`installing the report template answered HTTP ${res.status}`);
  };
  return {
    async send(kind, docs) {
      if (docs.length === 0) return;
      template ??= putTemplate().catch((err: unknown) => {
        template = undefined;
        throw err;
      });
      await template;
      const lines = docs.flatMap((doc) => [
        JSON.stringify({
          index: { _index: `${prefix}-${kind}-${doc['@timestamp'].slice(0, 7).replace('-', '.')}` },
        }),
        JSON.stringify(doc),
      ]);
      const res = await client.bulk(Buffer.from(`${lines.join('\n')}\n`));
      if (res.status >= 300 || res.errors)
        throw new Error(`indexing ${kind} reports answered HTTP ${res.status}`);
    },
  };
}

/**
 * Sends report documents to the first HEC URL as events of their own sourcetypes, the way the HEC sink
 * sends: the same URL handling (a base path in front of /services/collector) and the same connection
 * settings (`tls.caFile`, `tls.rejectUnauthorized`, request time-out), through the sink's transport.
 */
export function hecReportTarget(
  config: HecSinkConfig,
  token: string,
  deps: { dispatcher?: Dispatcher } = {},
): ReportTarget {
  const endpoint = new Endpoint(config.urls[0]!);
  const own = deps.dispatcher ? undefined : laneDispatcher(endpoint, config);
  const lane = new Lane(endpoint, deps.dispatcher ?? own!, `Splunk ${token}`, config.requestTimeoutMs);
  return {
    async send(kind, docs) {
      if (docs.length === 0) return;
      const body = docs
        .map((doc) =>
          JSON.stringify({
            time: Date.parse(doc['@timestamp']) / 1000,
            sourcetype: `aws-siem-connector:${kind}`,
            source: 'aws-siem-connector',
            ...(config.index ? { index: config.index } : {}),
            event: doc,
          }),
        )
        .join('\n');
      const res = await lane.postEvents(Buffer.from(body), false);
      if (res.status !== 200)
        throw new Error(
          `sending ${kind} reports to HEC answered HTTP ${res.status}: ${maskToken(res.body.slice(0, 200), token)}`,
        );
    },
    async close() {
      await own?.close();
    },
  };
}

/** Report documents held for the next round at most. */
const MAX_PENDING_REPORTS = 10_000;

/**
 * Collects audit entries and health samples and sends them to every target. Reporting never blocks or
 * fails the work it reports on: errors are logged and the documents of that round are dropped (the
 * JSONL audit file stays the record of truth).
 */
export class SelfReporter implements AuditSink {
  readonly #targets: ReportTarget[];
  readonly #metrics: Metrics;
  readonly #sinks: readonly string[];
  readonly #log: Logger;
  #pending: { kind: ReportKind; doc: ReportDocument }[] = [];
  #dropped = 0;
  #sending: Promise<void> | undefined;
  #last: Awaited<ReturnType<typeof snapshot>> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: { targets: ReportTarget[]; metrics: Metrics; sinks: readonly string[]; log: Logger }) {
    this.#targets = deps.targets;
    this.#metrics = deps.metrics;
    this.#sinks = deps.sinks;
    this.#log = deps.log;
  }

  /** Samples health every `intervalSeconds` and sends what is pending. */
  start(intervalSeconds: number): void {
    void snapshot(this.#metrics).then((s) => {
      this.#last = s;
    });
    this.#timer = setInterval(() => void this.tick(), intervalSeconds * 1000);
    this.#timer.unref();
  }

  write(entry: AuditEntry): void {
    this.#queue({ kind: 'audit', doc: auditDocument(entry) });
  }

  alert(alert: { rule: string; id?: string | undefined; route: string }): void {
    this.#queue({ kind: 'audit', doc: alertDocument(alert) });
  }

  /**
   * Holds a document for the next round, up to MAX_PENDING_REPORTS: past it (a SIEM that stays slow while
   * alerts keep coming) documents are dropped and the drop is logged once per round.
   */
  #queue(item: { kind: ReportKind; doc: ReportDocument }): void {
    if (this.#pending.length < MAX_PENDING_REPORTS) this.#pending.push(item);
    else this.#dropped++;
  }

  /** One round: a health sample (when sampling) plus everything pending. A round still sending is not overlapped. */
  async tick(): Promise<void> {
    if (this.#sending) return this.#sending;
    this.#sending = this.#round().finally(() => {
      this.#sending = undefined;
    });
    return this.#sending;
  }

  async #round(): Promise<void> {
    if (this.#dropped > 0) {
      this.#log.warn(
        { dropped: this.#dropped, max: MAX_PENDING_REPORTS },
        'self-report documents dropped: the SIEM took them slower than they came (the JSONL audit file has them all)',
      );
      this.#dropped = 0;
    }
    if (this.#last) {
      const now = await snapshot(this.#metrics);
      for (const doc of healthDocuments(now, this.#last, this.#sinks))
        this.#pending.push({ kind: 'metrics', doc });
      this.#last = now;
    }
    const batch = this.#pending;
    this.#pending = [];
    for (const kind of ['audit', 'metrics'] as const) {
      const docs = batch.filter((p) => p.kind === kind).map((p) => p.doc);
      if (docs.length === 0) continue;
      await Promise.all(
        this.#targets.map((t) =>
          t
            .send(kind, docs)
            .catch((err: unknown) => this.#log.warn({ err: errorMessage(err), kind }, 'self-report failed')),
        ),
      );
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    // A round in progress took what was pending when it began; what came since goes in one more.
    await this.#sending;
    await this.tick();
    await Promise.all(this.#targets.map((t) => t.close?.()));
  }
}

/** Report targets for the sinks the config names; none when reporting is off or no SIEM is configured. */
export async function createSelfReporter(
  config: {
    observe: { selfReportIntervalSeconds: number };
    sinks: {
      hec?: HecSinkConfig | undefined;
      search?: import('../sink/search/config.js').SearchSinkConfig | undefined;
    };
  },
  deps: { metrics: Metrics; log: Logger; sinks: readonly string[] },
): Promise<SelfReporter | undefined> {
  if (config.observe.selfReportIntervalSeconds === 0) return undefined;
  const targets: ReportTarget[] = [];
  if (config.sinks.search) {
    const { createSearchClient } = await import('../sink/search/index.js');
    const client = createSearchClient(config.sinks.search);
    targets.push({ ...searchReportTarget(client), close: () => client.close() });
  }
  if (config.sinks.hec) {
    const { resolveToken } = await import('../sink/hec/index.js');
    targets.push(hecReportTarget(config.sinks.hec, resolveToken(config.sinks.hec)));
  }
  if (targets.length === 0) return undefined;
  const reporter = new SelfReporter({ targets, ...deps });
  reporter.start(config.observe.selfReportIntervalSeconds);
  return reporter;
}
