import { createLogger } from '../../../../src/observe/index.js';
import type {
  BulkItemResult,
  BulkResult,
  JsonResponse,
  SearchClient,
} from '../../../../src/sink/search/index.js';
import {
  type SearchSinkConfig,
  type SearchSinkConfigInput,
  searchSinkConfigSchema,
} from '../../../../src/sink/search/index.js';
import type { LogType, SinkRecord } from '../../../../src/types.js';

export type Settled =
  | { outcome: 'ack' }
  | { outcome: 'reject'; reason: string; code: string }
  | { outcome: 'fail'; error: Error & { code?: string } };

export interface TrackedRecord extends SinkRecord<Record<string, unknown>> {
  settled: Settled[];
}

export function record(
  id: string,
  doc: Record<string, unknown> = {},
  logType: LogType = 'cloudtrail',
): TrackedRecord {
  const settled: Settled[] = [];
  return {
    id,
    logType,
    doc: { '@timestamp': '2024-03-05T10:00:00Z', 'event.id': id, ...doc },
    origin: { bucket: 'trail-bucket', key: `AWSLogs/obj-${id}.json.gz`, record: 1 },
    delivery: {
      ack: () => settled.push({ outcome: 'ack' }),
      reject: (reason, code) => settled.push({ outcome: 'reject', reason, code }),
      fail: (error) => settled.push({ outcome: 'fail', error }),
    },
    settled,
  };
}

export function config(input: Partial<SearchSinkConfigInput> = {}): SearchSinkConfig {
  return searchSinkConfigSchema.parse({
    flavour: 'opensearch',
    node: 'http://127.0.0.1:9',
    setup: { auto: false },
    retry: { initialDelayMs: 1, maxDelayMs: 5, maxElapsedMs: 2_000 },
    ...input,
  });
}

export interface BulkCall {
  body: string;
  /** `_id`s in request order. */
  ids: string[];
  actions: Array<Record<string, { _index: string; _id: string }>>;
  sources: Array<Record<string, unknown>>;
}

/**
 * An in-memory client. `respond` decides each bulk answer from the parsed request; by default every item
 * is created. Counts concurrency so tests can check the bound.
 */
export class FakeClient implements SearchClient {
  readonly flavour = 'opensearch' as const;
  calls: BulkCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  closed = false;
  requests: Array<{ method: string; path: string; body?: unknown }> = [];
  /** Pauses each bulk call until released when set. */
  gate: Promise<void> | undefined;

  constructor(
    public respond: (call: BulkCall, n: number) => BulkResult | Promise<BulkResult> = (call) => created(call),
    public onRequest: (method: string, path: string, body?: unknown) => JsonResponse = () => ({
      status: 404,
      body: {},
    }),
  ) {}

  async bulk(bytes: Buffer): Promise<BulkResult> {
    const body = bytes.toString('utf8');
    const lines = body
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const actions = lines.filter((_, i) => i % 2 === 0) as BulkCall['actions'];
    const sources = lines.filter((_, i) => i % 2 === 1);
    const ids = actions.map((a) => Object.values(a)[0]!._id);
    const call = { body, ids, actions, sources };
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      return await this.respond(call, this.calls.length);
    } finally {
      this.inFlight--;
    }
  }

  async request(method: string, path: string, body?: unknown): Promise<JsonResponse> {
    this.requests.push({ method, path, body });
    return this.onRequest(method, path, body);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export function created(call: BulkCall, overrides: Record<string, BulkItemResult> = {}): BulkResult {
  const items = call.ids.map((id) => overrides[id] ?? { status: 201 });
  return { status: 200, errors: items.some((i) => i.status >= 300), items };
}

export const silentLogger = createLogger('silent');
