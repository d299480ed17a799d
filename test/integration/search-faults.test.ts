import { Client } from '@opensearch-project/opensearch';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SampleDocument, sampleEcsDocuments } from '../../src/bench/search.js';
import { createLogger } from '../../src/observe/index.js';
import {
  createSearchSink,
  type SearchSink,
  type SearchSinkConfigInput,
  searchSinkConfigSchema,
} from '../../src/sink/search/index.js';
import type { SinkRecord } from '../../src/types.js';
import { serviceEndpoints } from '../services/endpoints.js';
import { createSearchFaultProxy, type SearchFaultProxy } from './support/search-fault-proxy.js';

type Outcome = 'ack' | 'reject' | 'fail';

const run = `flt${Date.now().toString(36)}`;
let admin: Client;
let proxy: SearchFaultProxy;
let flows: SampleDocument[];
let seq = 0;

/** A fresh data stream per test, written through the fault proxy; every delivery outcome is recorded. */
function setup(input: Partial<SearchSinkConfigInput> = {}) {
  const namespace = `${run}n${seq++}`;
  const sink = createSearchSink(
    searchSinkConfigSchema.parse({
      flavour: 'opensearch',
      node: proxy.url,
      target: { mode: 'datastream', namespace },
      flushCount: 25,
      flushIntervalMs: 20,
      concurrency: 2,
      retry: { initialDelayMs: 20, maxDelayMs: 200, maxElapsedMs: 30_000 },
      ...input,
    }),
    { logger: createLogger('silent') },
  );
  const outcomes = new Map<string, Outcome[]>();
  const records: Array<SinkRecord<Record<string, unknown>>> = flows.map((d) => {
    const list: Outcome[] = [];
    outcomes.set(d.id, list);
    return {
      ...d,
      delivery: {
        ack: () => list.push('ack'),
        reject: () => list.push('reject'),
        fail: () => list.push('fail'),
      },
    };
  });
  return { sink, records, outcomes, index: `logs-aws.vpcflow-${namespace}` };
}

async function count(index: string): Promise<number> {
  await admin.indices.refresh({ index, ignore_unavailable: true, allow_no_indices: true } as never);
  const res = await admin.count({ index, ignore_unavailable: true, allow_no_indices: true } as never);
  return Number((res.body as { count: number }).count);
}

function everyOnce(outcomes: Map<string, Outcome[]>, outcome: Outcome): boolean {
  return [...outcomes.values()].every((o) => o.length === 1 && o[0] === outcome);
}

async function writeAll(
  sink: SearchSink,
  records: Array<SinkRecord<Record<string, unknown>>>,
): Promise<void> {
  for (const r of records) await sink.write(r);
  await sink.flush();
}

beforeAll(async () => {
  const node = serviceEndpoints().opensearch.url;
  admin = new Client({ node });
  proxy = await createSearchFaultProxy(node);
  flows = (await sampleEcsDocuments({ cloudtrail: 0, vpcflow: 200, seed: 9 })).filter(
    (d) => d.logType === 'vpcflow',
  );
});

afterEach(() => {
  proxy.up();
  proxy.plan({});
});

afterAll(async () => {
  await proxy.close();
  await admin.transport
    .request({ method: 'DELETE', path: `/_data_stream/logs-aws.*-${run}*` })
    .catch(() => undefined);
  await admin.close();
});

describe('search sink under injected faults (real OpenSearch behind a fault proxy)', () => {
  it('resends only the items answered 429 and loses none', async () => {
    const { sink, records, outcomes, index } = setup();
    proxy.plan({ rejectItems: { requests: 4, every: 3 } });
    await writeAll(sink, records);
    await sink.close();
    expect(proxy.counts.itemsRejected).toBeGreaterThan(0);
    expect(everyOnce(outcomes, 'ack')).toBe(true);
    const stats = sink.stats();
    expect(stats.retried).toBeGreaterThanOrEqual(proxy.counts.itemsRejected);
    expect(stats).toMatchObject({ indexed: records.length, failed: 0, rejected: 0, duplicates: 0 });
    expect(await count(index)).toBe(records.length);
  });

  it('retries whole requests answered 429 and 503 and loses none', async () => {
    const { sink, records, outcomes, index } = setup();
    proxy.plan({ failRequests: { requests: 5, status: 503 } });
    const before = proxy.counts.requestsFailed;
    await writeAll(sink, records);
    proxy.plan({ failRequests: { requests: 3, status: 429 } });
    const again = setup();
    await writeAll(again.sink, again.records);
    await sink.close();
    await again.sink.close();
    expect(proxy.counts.requestsFailed - before).toBe(8);
    expect(everyOnce(outcomes, 'ack')).toBe(true);
    expect(everyOnce(again.outcomes, 'ack')).toBe(true);
    expect(await count(index)).toBe(records.length);
    expect(await count(again.index)).toBe(records.length);
  });

  it('survives connections dropped after the node indexed the request: acked once, counted as duplicates, no copies', async () => {
    const { sink, records, outcomes, index } = setup();
    proxy.plan({ dropAfterForward: { requests: 2 } });
    await writeAll(sink, records);
    await sink.close();
    expect(proxy.counts.dropped).toBeGreaterThanOrEqual(2);
    expect(everyOnce(outcomes, 'ack')).toBe(true);
    const stats = sink.stats();
    expect(stats.duplicates).toBeGreaterThan(0);
    expect(stats.indexed + stats.duplicates).toBe(records.length);
    expect(await count(index)).toBe(records.length);
  });

  it('keeps every record while the node is stopped mid-stream and delivers all once it is back', async () => {
    const { sink, records, outcomes, index } = setup({ maxBufferedBytes: 64 * 1024 });
    const half = Math.floor(records.length / 2);
    for (const r of records.slice(0, half)) await sink.write(r);
    await sink.flush();
    proxy.down();
    const restart = setTimeout(() => proxy.up(), 1_500);
    const refusedBefore = proxy.counts.refused;
    await writeAll(sink, records.slice(half));
    clearTimeout(restart);
    await sink.close();
    expect(proxy.counts.refused).toBeGreaterThan(refusedBefore);
    expect(everyOnce(outcomes, 'ack')).toBe(true);
    expect(sink.stats()).toMatchObject({ failed: 0, rejected: 0 });
    expect(await count(index)).toBe(records.length);
  });

  it('fails every record (for redelivery) when the node stays away past the retry window; none is acked', async () => {
    const { sink, records, outcomes, index } = setup({
      retry: { initialDelayMs: 20, maxDelayMs: 50, maxElapsedMs: 300 },
    });
    proxy.down();
    await writeAll(sink, records.slice(0, 40));
    await sink.close();
    const settled = records.slice(0, 40).map((r) => outcomes.get(r.id));
    expect(settled.every((o) => o?.length === 1 && o[0] === 'fail')).toBe(true);
    expect(sink.stats()).toMatchObject({ failed: 40, indexed: 0 });
    proxy.up();
    expect(await count(index)).toBe(0);
  });
});
