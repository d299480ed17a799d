import { S3Client } from '@aws-sdk/client-s3';
import type { AwsConfig, ConnectorConfig } from '../config/index.js';
import { ConfigError } from '../config/index.js';
import { flowLayoutsWith } from '../decode/index.js';
import { type CimOptions, toCim } from '../map/cim/index.js';
import { documentId, type EcsMapOptions, openGeoIp, toEcs } from '../map/ecs/index.js';
import { awsHttpOptions } from '../network/index.js';
import type { Logger, Metrics } from '../observe/index.js';
import type { HecResponseInfo } from '../sink/hec/index.js';
import type { SearchResponseInfo } from '../sink/search/index.js';
import { type CredentialsProvider, sourceRoleCredentials } from '../source/credentials.js';
import { RegionalClients } from '../source/regions.js';
import type { Sink } from '../types.js';
import { type DeadLetter, directoryDeadLetter, s3DeadLetter } from './dead-letter.js';
import { compileDropFilters } from './drop.js';
import { DecodeActivity, type ObjectPipeline, type RecordObserver } from './process-object.js';

export interface RunningPipeline extends ObjectPipeline {
  /** The source's client for `aws.region`: replay's listings and reads. */
  s3: S3Client;
  /**
   * The source's clients by bucket region (a notification names it), `s3` among them; `destroy()` releases
   * them all. Asking a bucket's own region spares the redirect S3 answers a request signed for another one.
   */
  s3Clients: RegionalClients<S3Client>;
  /** The source role's credentials (`source.assumeRole`), for the source's SQS clients too; else undefined. */
  sourceCredentials: CredentialsProvider | undefined;
  /** Flushes every sink and the dead letter, then releases them. */
  close(): Promise<void>;
}

/**
 * An S3 client for `aws.region`. A bucket elsewhere is still reached: S3's redirect names its region and
 * the SDK resends there (`followRegionRedirects`), at the cost of one more round trip per request.
 */
export function s3Client(aws: AwsConfig, credentials?: CredentialsProvider): S3Client {
  return new S3Client({
    region: aws.region,
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    forcePathStyle: aws.forcePathStyle || aws.endpoint !== undefined,
    followRegionRedirects: true,
    ...(credentials ? { credentials } : {}),
    ...awsHttpOptions(),
  });
}

/** Builds the sinks the config names; at least one is required. */
export async function createSinks(config: ConnectorConfig, log: Logger, metrics?: Metrics): Promise<Sink[]> {
  const sinks: Sink[] = [];
  if (config.sinks.hec) {
    const { createHecSink } = await import('../sink/hec/index.js');
    const onResponse = metrics
      ? (info: HecResponseInfo) => {
          metrics.sinkLatency.observe({ sink: 'hec' }, info.durationMs / 1000);
          if (info.kind === 'retry') metrics.sinkRetries.inc({ sink: 'hec', status: String(info.status) });
          metrics.sinkConcurrencyLimit.set({ sink: 'hec' }, info.concurrencyLimit);
        }
      : undefined;
    const hec = createHecSink(config.sinks.hec, { logger: log, ...(onResponse ? { onResponse } : {}) });
    // The starting limit is shown before the first response moves it.
    metrics?.sinkConcurrencyLimit.set({ sink: 'hec' }, hec.stats().concurrencyLimit);
    sinks.push(hec as Sink);
  }
  if (config.sinks.search) {
    const { createSearchSink } = await import('../sink/search/index.js');
    const onResponse = metrics
      ? (info: SearchResponseInfo) => {
          metrics.sinkLatency.observe({ sink: 'search' }, info.durationMs / 1000);
          if (info.retry) metrics.sinkRetries.inc({ sink: 'search', status: String(info.status) });
        }
      : undefined;
    sinks.push(
      createSearchSink(config.sinks.search, { logger: log, ...(onResponse ? { onResponse } : {}) }) as Sink,
    );
  }
  if (config.sinks.file) {
    const { createFileSink } = await import('../sink/file/index.js');
    sinks.push(createFileSink(config.sinks.file, { log }));
  }
  if (sinks.length === 0) {
    throw new ConfigError('no sink configured: set sinks.hec, sinks.search or sinks.file', { key: 'sinks' });
  }
  for (const type of ['cloudtrail', 'vpcflow'] as const) {
    if (!sinks.some((s) => s.logTypes === undefined || s.logTypes.includes(type))) {
      log.warn(
        { logType: type },
        `no sink takes ${type} records (sinks.*.logTypes): they are read and not shipped`,
      );
    }
  }
  return sinks;
}

/**
 * The ECS mapping's options from config: the GeoIP databases opened once, the data stream's namespace
 * (per account with `accountNamespaces`) written into `data_stream.namespace` (the search sink writes to
 * `logs-aws.<dataset>-<namespace>`, and Kibana filters on the field), and whether `event.original` is kept.
 */
export async function ecsMapOptions(config: ConnectorConfig): Promise<EcsMapOptions> {
  const options: EcsMapOptions = { includeOriginal: config.mapping.preserveOriginal };
  if (config.mapping.accountNames) options.accountNames = config.mapping.accountNames;
  const target = config.sinks.search?.target;
  if (target?.mode === 'datastream') {
    options.namespace = target.namespace;
    if (target.accountNamespaces) options.accountNamespaces = target.accountNamespaces;
  }
  const { city, asn } = config.mapping.geoip;
  if (city !== undefined || asn !== undefined) {
    try {
      options.geoip = await openGeoIp({ city, asn });
    } catch (err) {
      throw new ConfigError(
        `mapping.geoip: cannot open the MaxMind database (${(err as Error).message})`,
        { key: 'mapping.geoip' },
        err,
      );
    }
  }
  return options;
}

/** How HEC events are made, from the `mapping` section. */
export function cimMapOptions(config: ConnectorConfig): CimOptions {
  return { flowLineOrder: config.mapping.cimFlowLineOrder };
}

/** Everything `processObject` needs, built once from validated config. */
export async function buildPipeline(
  config: ConnectorConfig,
  deps: { log: Logger; metrics: Metrics; sinks?: Sink[]; observe?: RecordObserver },
): Promise<RunningPipeline> {
  const sourceCredentials = sourceRoleCredentials(config.aws, config.source.assumeRole);
  const s3Clients = new RegionalClients(config.aws.region, (region) =>
    s3Client({ ...config.aws, region }, sourceCredentials),
  );
  const s3 = s3Clients.get();
  const ecsOptions = await ecsMapOptions(config);
  const cimOptions = cimMapOptions(config);
  const sinks = deps.sinks ?? (await createSinks(config, deps.log, deps.metrics));
  const { maxPendingBytes } = config.deadLetter;
  // The dead letter is the connector's own bucket: its own credentials, never the source role's.
  const deadLetterS3 = config.deadLetter.s3 ? s3Client(config.aws) : undefined;
  const deadLetter: DeadLetter =
    config.deadLetter.s3 && deadLetterS3
      ? s3DeadLetter(deadLetterS3, config.deadLetter.s3, { maxPendingBytes })
      : directoryDeadLetter(config.deadLetter.dir, { maxPendingBytes });
  return {
    s3,
    s3Clients,
    sourceCredentials,
    sinks,
    activity: new DecodeActivity(sinks),
    deadLetter,
    metrics: deps.metrics,
    log: deps.log,
    observe: deps.observe,
    flowLayouts: flowLayoutsWith(config.pipeline.flowFormats),
    maxParquetBytes: config.pipeline.maxParquetMiB * 1024 * 1024,
    drop: compileDropFilters(config.pipeline.drop),
    mappers: {
      id: documentId,
      ecs: (record) => toEcs(record, ecsOptions),
      // Index, host, source and sourcetype overrides are the HEC sink's to apply, per event.
      cim: (record) => toCim(record, cimOptions),
    },
    async close() {
      await Promise.allSettled(sinks.map((s) => s.close()));
      await deadLetter.close();
      deadLetterS3?.destroy();
    },
  };
}
