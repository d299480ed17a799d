import type { Registry } from 'prom-client';

export const EMF_NAMESPACE = 'AwsSiemConnector';

/** CloudWatch takes at most 100 metrics per directive; beyond that, further documents follow. */
const MAX_METRICS_PER_DOCUMENT = 100;

export interface EmfOptions {
  namespace?: string;
  /** One dimension on every metric, so the function's metrics stay apart from other deployments'. */
  service?: string;
  now?: () => number;
}

/** Metric name for one label set of a counter, readable next to the same series on /metrics. */
export function emfMetricName(name: string, labels: Record<string, string | number>): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  return pairs.length === 0 ? name : `${name}{${pairs.join(',')}}`;
}

/**
 * Renders the registry's counters (and histograms' sums and counts) as CloudWatch embedded-metric
 * documents. Prometheus counters are cumulative while CloudWatch adds up what it is sent, so each call
 * emits only what grew since the previous call of the same emitter (a warm Lambda container keeps its
 * counters between invocations).
 */
export function createEmfEmitter(registry: Registry, options: EmfOptions = {}) {
  const namespace = options.namespace ?? EMF_NAMESPACE;
  const service = options.service ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'aws-siem-connector';
  const now = options.now ?? Date.now;
  const previous = new Map<string, number>();

  return {
    /** The documents for what changed since the last call; empty when nothing did. */
    async render(): Promise<Record<string, unknown>[]> {
      const deltas: [name: string, delta: number, unit: string][] = [];
      const grew = (name: string, value: number, unit: string): void => {
        const delta = value - (previous.get(name) ?? 0);
        previous.set(name, value);
        if (delta > 0) deltas.push([name, delta, unit]);
      };
      for (const metric of await registry.getMetricsAsJSON()) {
        const type = String(metric.type);
        if (type === 'counter') {
          for (const { value, labels } of metric.values) {
            grew(emfMetricName(metric.name, labels as Record<string, string | number>), value, 'Count');
          }
        } else if (type === 'histogram') {
          // A histogram's sum and count grow like counters: per invocation they give the requests and
          // their mean time (sum / count); the buckets are left to /metrics.
          for (const { value, labels, metricName } of metric.values as {
            value: number;
            labels: Record<string, string | number>;
            metricName?: string;
          }[]) {
            if (metricName?.endsWith('_sum')) {
              grew(
                emfMetricName(metricName, labels),
                value,
                metric.name.endsWith('_seconds') ? 'Seconds' : 'None',
              );
            } else if (metricName?.endsWith('_count')) {
              grew(emfMetricName(metricName, labels), value, 'Count');
            }
          }
        }
        // Gauges are left out: at the end of an invocation they say how the container was left, not
        // what the invocation did (in-flight work is zero again).
      }
      const documents: Record<string, unknown>[] = [];
      for (let i = 0; i < deltas.length; i += MAX_METRICS_PER_DOCUMENT) {
        const chunk = deltas.slice(i, i + MAX_METRICS_PER_DOCUMENT);
        documents.push({
          _aws: {
            Timestamp: now(),
            CloudWatchMetrics: [
              {
                Namespace: namespace,
                Dimensions: [['Service']],
                Metrics: chunk.map(([name, , unit]) => ({ Name: name, Unit: unit })),
              },
            ],
          },
          Service: service,
          ...Object.fromEntries(chunk.map(([name, delta]) => [name, delta])),
        });
      }
      return documents;
    },
    /** Writes the documents as JSON lines (Lambda sends stdout to CloudWatch Logs, which extracts them). */
    async emit(write: (line: string) => void = (line) => process.stdout.write(line)): Promise<number> {
      const documents = await this.render();
      for (const doc of documents) write(`${JSON.stringify(doc)}\n`);
      return documents.length;
    },
  };
}

export type EmfEmitter = ReturnType<typeof createEmfEmitter>;
