import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every metric the connector exposes, in one place so that names and labels stay consistent between
 * the long-running /metrics endpoint and Lambda's embedded-metric output. Label values are bounded
 * (log types, outcomes, reason codes, sink names), never record data.
 */
export function createMetrics(registry = new Registry()) {
  const counter = <L extends string>(name: string, help: string, labelNames: L[] = []) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    messagesReceived: counter('asc_sqs_messages_received_total', 'SQS messages received', ['queue']),
    messagesDeleted: counter(
      'asc_sqs_messages_deleted_total',
      'SQS messages deleted after every record was delivered',
      ['queue'],
    ),
    messagesReturned: counter('asc_sqs_messages_returned_total', 'SQS messages left for redelivery', [
      'queue',
      'reason',
    ]),
    notificationsSkipped: counter('asc_notifications_skipped_total', 'notification entries skipped', [
      'reason',
    ]),
    pollRounds: counter(
      'asc_s3_poll_rounds_total',
      'S3 poller listing rounds, by outcome (complete, partial: cut short by a stop, failed, standby: another poller holds the state)',
      ['outcome'],
    ),
    pollObjects: counter(
      'asc_s3_poll_objects_total',
      'objects the S3 poller took up, by action (read, retried, given-up: written to the dead letter)',
      ['action'],
    ),
    objects: counter('asc_objects_total', 'S3 objects processed, by outcome', ['log_type', 'outcome']),
    objectBytes: counter(
      'asc_object_bytes_total',
      'bytes read from S3 objects (as stored, before decompression)',
      ['log_type'],
    ),
    records: counter('asc_records_total', 'records decoded', ['log_type']),
    recordsSkipped: counter('asc_records_skipped_total', 'objects or records skipped on purpose', ['reason']),
    recordsDropped: counter('asc_records_dropped_total', 'records not shipped, by the drop filter matched', [
      'log_type',
      'filter',
    ]),
    deadLetters: counter('asc_dead_letters_total', 'records sent to the dead letter', ['code']),
    sinkRecords: counter('asc_sink_records_total', 'records settled at a sink, by outcome', [
      'sink',
      'outcome',
    ]),
    sinkRetries: counter('asc_sink_retries_total', 'sink request retries, by status', ['sink', 'status']),
    alerts: counter('asc_alerts_total', 'in-stream detection alerts', ['rule']),
    alertWriteFailures: counter(
      'asc_alert_write_failures_total',
      'in-stream detection alerts that could not be appended to the alerts file, by error code',
      ['code'],
    ),
    webhookRequests: counter('asc_webhook_requests_total', 'webhook requests, by route and status', [
      'route',
      'status',
    ]),
    responseActions: counter('asc_response_actions_total', 'response actions, by action and outcome', [
      'action',
      'outcome',
    ]),
    lag: withPeak(
      new Histogram({
        name: 'asc_lag_seconds',
        help: 'time from the S3 object-created event to its records being delivered',
        buckets: [0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600],
        registers: [registry],
      }),
    ),
    sinkLatency: new Histogram<'sink'>({
      name: 'asc_sink_request_seconds',
      help: 'sink request latency',
      labelNames: ['sink'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    sinkConcurrencyLimit: new Gauge<'sink'>({
      name: 'asc_sink_concurrency_limit',
      help: 'requests a sink may have in flight now (moves with adaptive concurrency)',
      labelNames: ['sink'],
      registers: [registry],
    }),
    inFlightObjects: new Gauge({
      name: 'asc_in_flight_objects',
      help: 'objects being processed',
      registers: [registry],
    }),
    inFlightMessages: new Gauge({
      name: 'asc_in_flight_messages',
      help: 'SQS messages being processed',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

export type PeakHistogram = Histogram & {
  /** The largest value observed since the last call (undefined when none was), and starts over. */
  takePeak(): number | undefined;
};

/**
 * A histogram that also keeps the largest value observed since it was last read: the health self-report
 * states the worst lag of its interval, which the histogram itself only knows to a bucket.
 */
function withPeak(histogram: Histogram): PeakHistogram {
  let peak: number | undefined;
  const observe = histogram.observe.bind(histogram) as (...args: unknown[]) => void;
  const observeWithPeak = (...args: unknown[]): void => {
    // observe(value) or observe(labels, value).
    const value = args.length === 1 ? args[0] : args[1];
    if (typeof value === 'number' && (peak === undefined || value > peak)) peak = value;
    observe(...args);
  };
  const takePeak = (): number | undefined => {
    const taken = peak;
    peak = undefined;
    return taken;
  };
  return Object.assign(histogram, { observe: observeWithPeak as Histogram['observe'], takePeak });
}

let shared: Metrics | undefined;

/** The process-wide metrics; tests create their own with `createMetrics()`. */
export function metrics(): Metrics {
  shared ??= createMetrics();
  return shared;
}
