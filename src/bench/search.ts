import { Readable } from 'node:stream';
import { Client } from '@opensearch-project/opensearch';
import { decodeObject } from '../decode/index.js';
import { documentId, toEcs } from '../map/ecs/index.js';
import { createLogger } from '../observe/index.js';
import { cloudTrailObjectText, generateCloudTrailRecords, generateFlowLines } from '../samples/index.js';
import {
  createSearchClient,
  createSearchSink,
  installTemplates,
  type SearchSinkConfig,
  searchSinkConfigSchema,
} from '../sink/search/index.js';
import type { LogType, RecordOrigin } from '../types.js';

export interface SampleDocument {
  id: string;
  logType: LogType;
  doc: Record<string, unknown>;
  origin: RecordOrigin;
}

/**
 * ECS documents from the project's own sample generators, through the real decoder and ECS mapper:
 * CloudTrail records (with the attack story) and VPC flow lines in the v2, v5 and v8 layouts.
 */
export async function sampleEcsDocuments(options: { cloudtrail: number; vpcflow: number; seed?: number }) {
  const seed = options.seed ?? 11;
  const objects: Array<{ key: string; text: string; logType: LogType }> = [
    {
      key: 'AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/sample.json',
      text: cloudTrailObjectText(
        generateCloudTrailRecords({ seed, count: options.cloudtrail, suspicious: true }),
      ),
      logType: 'cloudtrail',
    },
  ];
  const versions = [2, 5, 8];
  for (const version of versions) {
    const lines = generateFlowLines({
      seed: seed + version,
      version,
      count: Math.ceil(options.vpcflow / versions.length),
      suspicious: version === 2,
    });
    objects.push({
      key: `AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/28/v${version}.log`,
      text: `${lines.join('\n')}\n`,
      logType: 'vpcflow',
    });
  }
  const docs: SampleDocument[] = [];
  for (const object of objects) {
    const origin = { bucket: 'bench-bucket', key: object.key };
    for await (const result of decodeObject(Readable.from([Buffer.from(object.text)]), {
      origin,
      logType: object.logType,
    })) {
      if (result.kind !== 'record') continue;
      const record = result.record;
      docs.push({
        id: documentId(record),
        logType: record.logType,
        doc: toEcs(record) as Record<string, unknown>,
        origin: record.origin,
      });
    }
  }
  return docs;
}

export interface SearchBenchResult {
  name: 'search sink' | 'opensearch helpers.bulk';
  docs: number;
  /** Documents counted in the index afterwards: a client that loses data must not look fast. */
  indexed: number;
  seconds: number;
  docsPerSecond: number;
  /** Process CPU (user + system) per document, microseconds. */
  cpuMicrosPerDoc: number;
}

const FLUSH_BYTES = 5_000_000;
const CONCURRENCY = 4;

async function measure<T>(run: () => Promise<T>): Promise<{ value: T; seconds: number; cpuMicros: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await run();
  const used = process.cpuUsage(cpu);
  return { value, seconds: (performance.now() - started) / 1000, cpuMicros: used.user + used.system };
}

function benchConfig(node: string, prefix: string): SearchSinkConfig {
  return searchSinkConfigSchema.parse({
    flavour: 'opensearch',
    node,
    target: { mode: 'index', pattern: `${prefix}-{logType}` },
    flushBytes: FLUSH_BYTES,
    flushCount: 100_000,
    concurrency: CONCURRENCY,
    setup: { auto: false, templatePrefix: prefix },
  });
}

/**
 * Indexes the same documents through our sink and through the OpenSearch client's own `helpers.bulk`
 * into the same node, each into fresh indices with the same templates, and counts what arrived.
 */
export async function benchSearch(options: { node: string; docs: number }): Promise<SearchBenchResult[]> {
  const base = await sampleEcsDocuments({
    cloudtrail: Math.min(5_000, Math.ceil(options.docs / 2)),
    vpcflow: Math.min(5_000, Math.ceil(options.docs / 2)),
  });
  // Repeat the samples with distinct ids up to the requested count.
  const docs = Array.from({ length: options.docs }, (_, i) => {
    const sample = base[i % base.length]!;
    return { ...sample, id: `${sample.id}-${Math.floor(i / base.length)}` };
  });
  const admin = new Client({ node: options.node });
  const run = `asc-bench-${Date.now().toString(36)}`;
  const results: SearchBenchResult[] = [];
  try {
    // Warm both paths (JIT, connections, the node's caches) before measuring, so order does not decide.
    const warm = docs.slice(0, Math.min(2_000, docs.length));
    await runSink(options.node, `${run}-wsink`, warm, admin);
    await runHelper(options.node, `${run}-whelper`, warm, admin);
    results.push(await runSink(options.node, `${run}-sink`, docs, admin));
    results.push(await runHelper(options.node, `${run}-helper`, docs, admin));
  } finally {
    await admin.indices
      .delete({ index: `${run}-*`, ignore_unavailable: true } as never)
      .catch(() => undefined);
    for (const name of ['wsink', 'whelper', 'sink', 'helper'].map((n) => `${run}-${n}`)) {
      for (const t of ['cloudtrail', 'vpcflow']) {
        await admin.transport
          .request({ method: 'DELETE', path: `/_index_template/${name}-${t}` })
          .catch(() => undefined);
        await admin.transport
          .request({ method: 'DELETE', path: `/_component_template/${name}-${t}@mappings` })
          .catch(() => undefined);
      }
      await admin.transport
        .request({ method: 'DELETE', path: `/_component_template/${name}@ecs` })
        .catch(() => undefined);
    }
    await admin.close();
  }
  return results;
}

async function prepare(node: string, prefix: string): Promise<SearchSinkConfig> {
  const config = benchConfig(node, prefix);
  const client = createSearchClient(config);
  await installTemplates(client, config);
  await client.close();
  return config;
}

async function countIndexed(admin: Client, prefix: string): Promise<number> {
  await admin.indices.refresh({ index: `${prefix}-*` } as never);
  const res = await admin.count({ index: `${prefix}-*` } as never);
  return Number((res.body as { count: number }).count);
}

function result(
  name: SearchBenchResult['name'],
  docs: number,
  indexed: number,
  m: { seconds: number; cpuMicros: number },
): SearchBenchResult {
  return {
    name,
    docs,
    indexed,
    seconds: Number(m.seconds.toFixed(3)),
    docsPerSecond: Math.round(docs / m.seconds),
    cpuMicrosPerDoc: Number((m.cpuMicros / docs).toFixed(1)),
  };
}

async function runSink(node: string, prefix: string, docs: SampleDocument[], admin: Client) {
  const config = await prepare(node, prefix);
  const sink = createSearchSink(config, { logger: createLogger('silent') });
  const noop = { ack() {}, reject() {}, fail() {} };
  const m = await measure(async () => {
    for (const d of docs) await sink.write({ ...d, delivery: noop });
    await sink.flush();
  });
  await sink.close();
  return result('search sink', docs.length, await countIndexed(admin, prefix), m);
}

async function runHelper(node: string, prefix: string, docs: SampleDocument[], admin: Client) {
  await prepare(node, prefix);
  const client = new Client({ node, maxRetries: 0 });
  let i = 0;
  const m = await measure(() =>
    client.helpers.bulk({
      datasource: docs.map((d) => d.doc),
      onDocument: () => {
        const d = docs[i++]!;
        return { create: { _index: `${prefix}-${d.logType}`, _id: d.id } };
      },
      flushBytes: FLUSH_BYTES,
      concurrency: CONCURRENCY,
    }),
  );
  await client.close();
  return result('opensearch helpers.bulk', docs.length, await countIndexed(admin, prefix), m);
}
