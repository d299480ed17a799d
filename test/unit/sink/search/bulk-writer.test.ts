import { describe, expect, it, vi } from 'vitest';
import {
  createSearchSink,
  type SearchResponseInfo,
  SearchTransportError,
} from '../../../../src/sink/search/index.js';
import { config, created, FakeClient, record, silentLogger } from './support.js';

function sinkWith(
  client: FakeClient,
  input: Parameters<typeof config>[0] = {},
  onResponse?: (info: SearchResponseInfo) => void,
) {
  return createSearchSink(config(input), {
    client,
    logger: silentLogger,
    ...(onResponse ? { onResponse } : {}),
  });
}

describe('search bulk writer: batching', () => {
  it('flushes by count and sends each document as an action line plus a source line', async () => {
    const client = new FakeClient();
    const sink = sinkWith(client, { flushCount: 2 });
    const records = ['a', 'b', 'c'].map((id) => record(id, { 'user.name': `u-${id}` }));
    for (const r of records) await sink.write(r);
    expect(client.calls.map((c) => c.ids)).toEqual([['a', 'b']]);
    await sink.flush();
    expect(client.calls.map((c) => c.ids)).toEqual([['a', 'b'], ['c']]);
    expect(client.calls[0]!.actions[0]).toEqual({
      create: { _index: 'logs-aws.cloudtrail-default', _id: 'a' },
    });
    expect(client.calls[0]!.sources[1]).toMatchObject({ 'user.name': 'u-b' });
    expect(records.map((r) => r.settled)).toEqual([
      [{ outcome: 'ack' }],
      [{ outcome: 'ack' }],
      [{ outcome: 'ack' }],
    ]);
    expect(sink.stats()).toMatchObject({ indexed: 3, requests: 2, rejected: 0, failed: 0 });
  });

  it('flushes by bytes', async () => {
    const client = new FakeClient();
    const sink = sinkWith(client, { flushBytes: 2048, flushCount: 1000 });
    for (let i = 0; i < 10; i++) await sink.write(record(`id-${i}`, { message: 'x'.repeat(600) }));
    // Each document is ~700 bytes, so a request closes at the third.
    expect(client.calls.length).toBe(3);
    expect(client.calls.every((c) => c.ids.length === 3)).toBe(true);
    await sink.close();
    expect(client.calls.reduce((n, c) => n + c.ids.length, 0)).toBe(10);
  });

  it('flushes a partial batch after the interval without flush()', async () => {
    const client = new FakeClient();
    const sink = sinkWith(client, { flushIntervalMs: 20 });
    const r = record('lonely');
    await sink.write(r);
    expect(client.calls.length).toBe(0);
    await expect.poll(() => client.calls.length, { timeout: 1000 }).toBe(1);
    await expect.poll(() => r.settled.length).toBe(1);
  });

  it('when told nothing more is coming, sends after the short idle age instead of the interval', async () => {
    const client = new FakeClient();
    const sink = sinkWith(client, { flushIntervalMs: 60_000, idleFlushMs: 30 });
    sink.sendNow?.();
    expect(client.calls.length).toBe(0);
    await sink.write(record('a'));
    await sink.write(record('b'));
    sink.sendNow?.();
    expect(client.calls.length).toBe(0);
    await expect.poll(() => client.calls.map((c) => c.ids), { timeout: 1000 }).toEqual([['a', 'b']]);
    const atOnce = sinkWith(client, { flushIntervalMs: 60_000, idleFlushMs: 0 });
    await atOnce.write(record('c'));
    atOnce.sendNow?.();
    await expect.poll(() => client.calls.map((c) => c.ids), { timeout: 1000 }).toEqual([['a', 'b'], ['c']]);
    await Promise.all([sink.close(), atOnce.close()]);
  });

  it('writes to dated indices in index mode, from the document @timestamp', async () => {
    const client = new FakeClient();
    const sink = sinkWith(client, { target: { mode: 'index', pattern: 'aws-{logType}-{yyyy.MM.dd}' } });
    await sink.write(record('f1', { '@timestamp': '2023-12-31T23:59:59.000Z' }, 'vpcflow'));
    await sink.write(record('c1', { '@timestamp': '2024-01-01T00:00:00+02:00' }));
    await sink.flush();
    expect(client.calls[0]!.actions).toEqual([
      { create: { _index: 'aws-vpcflow-2023.12.31', _id: 'f1' } },
      { create: { _index: 'aws-cloudtrail-2023.12.31', _id: 'c1' } },
    ]);
  });
});

describe('search bulk writer: per-item outcomes', () => {
  it('acks created, acks and counts a 409 on create as a duplicate avoided, rejects a mapping error with the reason', async () => {
    const client = new FakeClient((call) =>
      created(call, {
        dup: {
          status: 409,
          error: { type: 'version_conflict_engine_exception', reason: '[dup]: version conflict' },
        },
        bad: {
          status: 400,
          error: {
            type: 'mapper_parsing_exception',
            reason: "failed to parse field [source.ip] of type [ip] in document with id 'bad'",
            caused_by: {
              type: 'illegal_argument_exception',
              reason: "'not-an-ip' is not an IP string literal.",
            },
          },
        },
      }),
    );
    const sink = sinkWith(client);
    const [ok, dup, bad] = [record('ok'), record('dup'), record('bad', { 'source.ip': 'not-an-ip' })];
    for (const r of [ok, dup, bad]) await sink.write(r);
    await sink.flush();
    expect(ok.settled).toEqual([{ outcome: 'ack' }]);
    expect(dup.settled).toEqual([{ outcome: 'ack' }]);
    expect(bad.settled).toHaveLength(1);
    expect(bad.settled[0]).toMatchObject({ outcome: 'reject', code: 'SEARCH_REJECTED' });
    const reason = (bad.settled[0] as { reason: string }).reason;
    expect(reason).toContain('mapper_parsing_exception');
    expect(reason).toContain('source.ip');
    expect(reason).toContain('not an IP string literal');
    expect(sink.stats()).toMatchObject({ indexed: 1, duplicates: 1, rejected: 1, failed: 0, retried: 0 });
  });

  it('resends only the items answered 429 or 5xx, with the same serialised lines, until they are created', async () => {
    const client = new FakeClient((call, n) =>
      n === 1
        ? created(call, {
            b: { status: 429, error: { type: 'es_rejected_execution_exception', reason: 'queue full' } },
            c: { status: 503, error: { type: 'unavailable_shards_exception', reason: 'primary not active' } },
          })
        : created(call),
    );
    const sink = sinkWith(client);
    const records = ['a', 'b', 'c', 'd'].map((id) => record(id));
    for (const r of records) await sink.write(r);
    await sink.flush();
    expect(client.calls.map((c) => c.ids)).toEqual([
      ['a', 'b', 'c', 'd'],
      ['b', 'c'],
    ]);
    const firstLines = client.calls[0]!.body.split('\n');
    const retryLines = client.calls[1]!.body.split('\n');
    expect(retryLines.slice(0, 4)).toEqual(firstLines.slice(2, 6));
    expect(records.every((r) => r.settled.length === 1 && r.settled[0]!.outcome === 'ack')).toBe(true);
    expect(sink.stats()).toMatchObject({ indexed: 4, retried: 2, requests: 2 });
  });

  it('retries the whole request after a connection failure or a 503 answer, then delivers', async () => {
    const client = new FakeClient((call, n) => {
      if (n === 1) throw new SearchTransportError('connect ECONNREFUSED 127.0.0.1:9200');
      if (n === 2) return { status: 503, error: { error: { type: 'unavailable', reason: 'node starting' } } };
      return created(call);
    });
    const sink = sinkWith(client);
    const records = ['a', 'b'].map((id) => record(id));
    for (const r of records) await sink.write(r);
    await sink.flush();
    expect(client.calls.map((c) => c.ids)).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
    ]);
    expect(records.map((r) => r.settled)).toEqual([[{ outcome: 'ack' }], [{ outcome: 'ack' }]]);
  });

  it('fails (never drops) records once the retry window is exhausted, naming object and record', async () => {
    const client = new FakeClient(() => {
      throw new SearchTransportError('connect ECONNREFUSED 127.0.0.1:9200');
    });
    const sink = sinkWith(client, { retry: { initialDelayMs: 5, maxDelayMs: 10, maxElapsedMs: 60 } });
    const r = record('stuck');
    await sink.write(r);
    await sink.flush();
    expect(client.calls.length).toBeGreaterThan(2);
    expect(r.settled).toHaveLength(1);
    const settled = r.settled[0] as { outcome: string; error: Error & { code: string; details: unknown } };
    expect(settled.outcome).toBe('fail');
    expect(settled.error.code).toBe('SEARCH_RETRIES_EXHAUSTED');
    expect(settled.error.message).toContain('s3://trail-bucket/AWSLogs/obj-stuck.json.gz record 1');
    expect(settled.error.message).toContain('ECONNREFUSED');
    expect(sink.stats()).toMatchObject({ failed: 1, indexed: 0 });
  });

  it('fails every record of a request answered 401, without retrying', async () => {
    const client = new FakeClient(() => ({
      status: 401,
      error: { error: { type: 'security_exception', reason: 'missing authentication credentials' } },
    }));
    const sink = sinkWith(client);
    const records = ['a', 'b'].map((id) => record(id));
    for (const r of records) await sink.write(r);
    await sink.flush();
    expect(client.calls.length).toBe(1);
    for (const r of records) {
      expect(r.settled[0]).toMatchObject({ outcome: 'fail', error: { code: 'SEARCH_AUTH' } });
    }
  });

  it('fails the records of a refused batch with one error, which names how many and one of them', async () => {
    const client = new FakeClient(() => ({
      status: 401,
      error: { error: { type: 'security_exception', reason: 'missing authentication credentials' } },
    }));
    const sink = sinkWith(client, { flushCount: 1000 });
    const records = Array.from({ length: 300 }, (_, i) => record(`r${i}`));
    for (const r of records) await sink.write(r);
    await sink.flush();
    expect(client.calls.length).toBe(1);
    const errors = records.map((r) => (r.settled[0] as { outcome: 'fail'; error: Error }).error);
    expect(new Set(errors).size).toBe(1);
    expect(errors[0]).toMatchObject({
      code: 'SEARCH_AUTH',
      details: { documents: 300, id: 'r0', key: 'AWSLogs/obj-r0.json.gz', record: 1 },
    });
    expect(errors[0]!.message).toMatch(
      /^search sink could not write 300 documents \(document r0 \(s3:\/\/trail-bucket\/AWSLogs\/obj-r0\.json\.gz record 1\) and 299 more\): .*missing authentication credentials/,
    );
    expect(sink.stats()).toMatchObject({ failed: 300 });
  });

  it('fails the items of one response refused for the same reason with one error', async () => {
    const notFound = { status: 404, error: { type: 'index_not_found_exception', reason: 'no such index' } };
    const client = new FakeClient((call) => created(call, { a: notFound, c: notFound, d: notFound }));
    const sink = sinkWith(client);
    const records = ['a', 'b', 'c', 'd'].map((id) => record(id));
    for (const r of records) await sink.write(r);
    await sink.flush();
    expect(records[1]!.settled).toEqual([{ outcome: 'ack' }]);
    const errors = [records[0]!, records[2]!, records[3]!].map(
      (r) => (r.settled[0] as { outcome: 'fail'; error: Error }).error,
    );
    expect(new Set(errors).size).toBe(1);
    expect(errors[0]).toMatchObject({ code: 'SEARCH_FAILED', details: { documents: 3, id: 'a' } });
    expect(errors[0]!.message).toContain('3 documents (document a (');
  });

  it('splits a request answered 413 and rejects a single document that is still too large', async () => {
    const client = new FakeClient((call) =>
      call.ids.length > 1 || call.ids[0] === 'huge'
        ? { status: 413, error: 'Request Entity Too Large' }
        : created(call),
    );
    const sink = sinkWith(client);
    const records = ['a', 'b', 'huge'].map((id) => record(id));
    for (const r of records) await sink.write(r);
    await sink.flush();
    expect(records[0]!.settled).toEqual([{ outcome: 'ack' }]);
    expect(records[1]!.settled).toEqual([{ outcome: 'ack' }]);
    expect(records[2]!.settled[0]).toMatchObject({ outcome: 'reject', code: 'SEARCH_TOO_LARGE' });
  });

  it('fails items whose index is unusable instead of dead-lettering the documents', async () => {
    const client = new FakeClient((call) =>
      created(call, {
        a: { status: 404, error: { type: 'index_not_found_exception', reason: 'no such index' } },
      }),
    );
    const sink = sinkWith(client);
    const r = record('a');
    await sink.write(r);
    await sink.flush();
    expect(r.settled[0]).toMatchObject({ outcome: 'fail', error: { code: 'SEARCH_FAILED' } });
  });

  it('rejects a document that cannot be serialised, and the rest still flow', async () => {
    const client = new FakeClient();
    const sink = sinkWith(client);
    const bad = record('bad', { 'source.bytes': 10n });
    const good = record('good');
    await sink.write(bad);
    await sink.write(good);
    await sink.flush();
    expect(bad.settled[0]).toMatchObject({ outcome: 'reject', code: 'SEARCH_SERIALIZE' });
    expect(good.settled).toEqual([{ outcome: 'ack' }]);
    expect(client.calls.map((c) => c.ids)).toEqual([['good']]);
  });
});

describe('search bulk writer: concurrency and back-pressure', () => {
  it('keeps at most `concurrency` requests in flight and makes write() wait while the buffer is full', async () => {
    const client = new FakeClient();
    let release!: () => void;
    client.gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // ~200-byte documents, 2 per request, 2 requests in flight, at most ~1 KB held.
    const sink = sinkWith(client, {
      flushCount: 2,
      concurrency: 2,
      flushBytes: 1024,
      maxBufferedBytes: 1024,
    });
    let written = 0;
    const writes = (async () => {
      for (let i = 0; i < 20; i++) {
        await sink.write(record(`r${i}`, { message: 'y'.repeat(120) }));
        written++;
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    expect(client.maxInFlight).toBe(2);
    expect(written).toBeLessThan(10);
    release();
    await writes;
    await sink.flush();
    expect(written).toBe(20);
    expect(client.maxInFlight).toBe(2);
    expect(sink.stats().indexed).toBe(20);
  });

  it('fails writes after close and closes the client', async () => {
    const client = new FakeClient();
    const sink = sinkWith(client);
    const before = record('before');
    await sink.write(before);
    await sink.close();
    expect(before.settled).toEqual([{ outcome: 'ack' }]);
    expect(client.closed).toBe(true);
    const after = record('after');
    await sink.write(after);
    expect(after.settled[0]).toMatchObject({ outcome: 'fail', error: { code: 'SEARCH_CLOSED' } });
  });

  it('close() waits for a write blocked on a full buffer, sends its record, and leaves no timer behind', async () => {
    // Only the sink's timers are faked: the test yields with setImmediate, which stays real.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const client = new FakeClient();
      let release!: () => void;
      client.gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const closedAfterCalls: number[] = [];
      const closeClient = client.close.bind(client);
      client.close = async () => {
        closedAfterCalls.push(client.calls.length);
        await closeClient();
      };
      // A long interval: a record left in a batch after close() would sit there behind a timer.
      const sink = sinkWith(client, { flushCount: 100, concurrency: 1, maxBufferedBytes: 1024 });
      const a = record('a', { pad: 'x'.repeat(600) });
      const b = record('b', { pad: 'x'.repeat(600) });
      await sink.write(a);
      sink.sendNow!();
      await new Promise((r) => setImmediate(r));
      expect(client.calls).toHaveLength(1);
      let bTaken = false;
      const writingB = sink.write(b).then(() => {
        bTaken = true;
      });
      await new Promise((r) => setImmediate(r));
      expect(bTaken).toBe(false);

      let closeDone = false;
      const closing = sink.close().then(() => {
        closeDone = true;
      });
      const late = record('late');
      await sink.write(late);
      expect(late.settled[0]).toMatchObject({ outcome: 'fail', error: { code: 'SEARCH_CLOSED' } });
      expect(late.settled[0]!.outcome === 'fail' && late.settled[0]!.error.message).toMatch(/closed/);
      await new Promise((r) => setImmediate(r));
      expect(closeDone).toBe(false);

      release();
      client.gate = undefined;
      await closing;
      await writingB;
      expect(a.settled).toEqual([{ outcome: 'ack' }]);
      expect(b.settled).toEqual([{ outcome: 'ack' }]);
      expect(client.calls.map((c) => c.ids)).toEqual([['a'], ['b']]);
      expect(closedAfterCalls).toEqual([2]);
      expect(vi.getTimerCount()).toBe(0);
      // A second close() is the same close.
      await sink.close();
      expect(closedAfterCalls).toEqual([2]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('close() waits for a delivery in its retry back-off, then nothing is left to keep the process alive', async () => {
    const client = new FakeClient((call, n) =>
      n === 1 ? { status: 503, error: { reason: 'busy' } } : created(call),
    );
    const sink = sinkWith(client, { retry: { initialDelayMs: 40, maxDelayMs: 40, maxElapsedMs: 5_000 } });
    const r = record('r');
    await sink.write(r);
    await sink.close();
    expect(r.settled).toEqual([{ outcome: 'ack' }]);
    expect(client.calls).toHaveLength(2);
    expect(client.closed).toBe(true);
  });
});

describe('search bulk writer: automatic setup', () => {
  it('installs templates once before the first request, and fails records (not drops) while it cannot', async () => {
    let allow = false;
    const client = new FakeClient(undefined, (method) => {
      if (!allow)
        return {
          status: 403,
          body: { error: { type: 'security_exception', reason: 'no manage_index_templates' } },
        };
      return method === 'GET' ? { status: 404, body: {} } : { status: 200, body: { acknowledged: true } };
    });
    const sink = sinkWith(client, { setup: { auto: true } });
    const first = record('first');
    await sink.write(first);
    await sink.flush();
    expect(first.settled[0]).toMatchObject({ outcome: 'fail', error: { code: 'SEARCH_SETUP' } });
    expect(client.calls.length).toBe(0);

    allow = true;
    const second = record('second');
    const third = record('third');
    await sink.write(second);
    await sink.write(third);
    await sink.flush();
    expect(second.settled).toEqual([{ outcome: 'ack' }]);
    const puts = client.requests.filter((r) => r.method === 'PUT').map((r) => r.path);
    expect(puts).toContain('/_index_template/aws-siem-connector-cloudtrail');
    const putsAfter = client.requests.length;
    await sink.write(record('fourth'));
    await sink.flush();
    expect(client.requests.length).toBe(putsAfter);
  });

  it('retries setup while the cluster is unreachable, within the retry window, then delivers', async () => {
    let calls = 0;
    const client = new FakeClient(undefined, (method) => {
      calls++;
      if (calls <= 2) throw new SearchTransportError('connect ECONNREFUSED');
      return method === 'GET' ? { status: 404, body: {} } : { status: 200, body: { acknowledged: true } };
    });
    const sink = sinkWith(client, { setup: { auto: true } });
    const r = record('patient');
    await sink.write(r);
    await sink.flush();
    expect(calls).toBeGreaterThan(2);
    expect(r.settled).toEqual([{ outcome: 'ack' }]);
  });
});

describe('search bulk writer: the response hook', () => {
  const withoutDuration = (infos: SearchResponseInfo[]) => infos.map(({ durationMs: _, ...rest }) => rest);
  const bytesOf = (client: FakeClient) => client.calls.map((c) => Buffer.byteLength(c.body));

  it('reports every bulk request: status, documents, body bytes, time taken, and whether it goes out again', async () => {
    const client = new FakeClient(async (call, n) => {
      if (n === 1) throw new SearchTransportError('connect ECONNREFUSED 127.0.0.1:9200');
      if (n === 2) return { status: 503, error: { error: { type: 'unavailable', reason: 'node starting' } } };
      if (n === 3) {
        await new Promise((r) => setTimeout(r, 30));
        return created(call, { b: { status: 429, error: { type: 'es_rejected_execution_exception' } } });
      }
      return created(call);
    });
    const infos: SearchResponseInfo[] = [];
    const sink = sinkWith(client, {}, (info) => infos.push(info));
    const records = ['a', 'b'].map((id) => record(id));
    for (const r of records) await sink.write(r);
    await sink.flush();
    expect(records.map((r) => r.settled)).toEqual([[{ outcome: 'ack' }], [{ outcome: 'ack' }]]);
    const [bothBytes, , , onlyB] = bytesOf(client);
    expect(withoutDuration(infos)).toEqual([
      { status: 'network-error', retry: true, items: 2, bytes: bothBytes },
      { status: 503, retry: true, items: 2, bytes: bothBytes },
      { status: 200, retry: true, items: 2, bytes: bothBytes },
      { status: 200, retry: false, items: 1, bytes: onlyB },
    ]);
    expect(onlyB).toBeLessThan(bothBytes!);
    // The third answer was held back 30 ms: the duration is the request's own.
    expect(infos[2]!.durationMs).toBeGreaterThanOrEqual(25);
    expect(infos.every((i) => Number.isFinite(i.durationMs) && i.durationMs >= 0)).toBe(true);
  });

  it('reports requests that do not go out again: refused (401), split (413), retry window spent', async () => {
    const refused: SearchResponseInfo[] = [];
    const client401 = new FakeClient(() => ({
      status: 401,
      error: { error: { type: 'security_exception' } },
    }));
    const sink401 = sinkWith(client401, {}, (info) => refused.push(info));
    for (const id of ['a', 'b']) await sink401.write(record(id));
    await sink401.flush();
    expect(withoutDuration(refused)).toEqual([
      { status: 401, retry: false, items: 2, bytes: bytesOf(client401)[0] },
    ]);

    const split: SearchResponseInfo[] = [];
    const client413 = new FakeClient((call) =>
      call.ids.length > 1 ? { status: 413, error: 'Request Entity Too Large' } : created(call),
    );
    const sink413 = sinkWith(client413, {}, (info) => split.push(info));
    for (const id of ['a', 'b']) await sink413.write(record(id));
    await sink413.flush();
    expect(split.map((i) => [i.status, i.retry, i.items])).toEqual([
      [413, false, 2],
      [200, false, 1],
      [200, false, 1],
    ]);

    const spent: SearchResponseInfo[] = [];
    const down = new FakeClient(() => {
      throw new SearchTransportError('connect ECONNREFUSED 127.0.0.1:9200');
    });
    const sinkDown = sinkWith(
      down,
      { retry: { initialDelayMs: 5, maxDelayMs: 10, maxElapsedMs: 60 } },
      (info) => spent.push(info),
    );
    const stuck = record('stuck');
    await sinkDown.write(stuck);
    await sinkDown.flush();
    expect(stuck.settled[0]).toMatchObject({ outcome: 'fail' });
    expect(spent).toHaveLength(down.calls.length);
    expect(spent.length).toBeGreaterThan(1);
    // Every attempt but the last is followed by another; the last is given up.
    expect(spent.map((i) => i.retry)).toEqual([...Array(spent.length - 1).fill(true), false]);
    expect(spent.every((i) => i.status === 'network-error')).toBe(true);
  });
});
