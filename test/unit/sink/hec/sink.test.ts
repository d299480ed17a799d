import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHecSink, HecError, hecSinkConfigSchema } from '../../../../src/sink/hec/index.js';
import { type FakeHec, startFakeHec } from './fake-hec.js';
import { captureLogger, event, fast, hecConfig, type Tracked, tracked } from './helpers.js';

let hec: FakeHec;
beforeEach(async () => {
  hec = await startFakeHec();
});
afterEach(async () => {
  await hec.close();
});

function outcomesOf(records: Tracked[]): string[] {
  return records.map((r) => r.outcomes.map((o) => o.kind).join(',') || 'pending');
}

describe('HEC sink: batching and the wire format', () => {
  it('batches by count, gzips, authenticates, sends a channel, keeps order, acks each record once', async () => {
    const { log } = captureLogger();
    const sink = createHecSink(hecConfig({ urls: [hec.url], batch: { maxEvents: 10 }, maxInFlight: 1 }), {
      logger: log,
    });
    const records = Array.from({ length: 25 }, (_, i) => tracked(i));
    for (const r of records) await sink.write(r.record);
    await sink.flush();
    expect(hec.requests.map((r) => r.events.length)).toEqual([10, 10, 5]);
    const first = hec.requests[0]!;
    expect(first.path).toBe('/services/collector/event');
    expect(first.headers['content-encoding']).toBe('gzip');
    expect(first.headers.authorization).toBe('Splunk unit-token-123');
    expect(first.headers['x-splunk-request-channel']).toMatch(/^[0-9a-f-]{36}$/);
    const seen = hec.requests.flatMap((r) => r.events.map((e) => (e.event as { n: number }).n));
    expect(seen).toEqual(records.map((_, i) => i));
    expect(first.events[0]).toMatchObject({
      time: 1_700_000_000,
      sourcetype: 'aws:cloudtrail',
      fields: { n: '0' },
    });
    expect(outcomesOf(records).every((o) => o === 'ack')).toBe(true);
    expect(sink.stats()).toMatchObject({ requests: 3, sent: 25, acked: 25, rejected: 0, failed: 0 });
    await sink.close();
  });

  it('batches by bytes and sends plain JSON when gzip is off', async () => {
    const sink = createHecSink(hecConfig({ urls: [hec.url], gzip: false, batch: { maxBytes: 2048 } }));
    const big = 'x'.repeat(600);
    for (let i = 0; i < 9; i++) await sink.write(tracked(i, event(i, { event: { big, n: i } })).record);
    await sink.flush();
    expect(hec.requests.length).toBeGreaterThanOrEqual(3);
    for (const r of hec.requests) {
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(Buffer.byteLength(r.raw)).toBeLessThanOrEqual(2048);
    }
    expect(hec.requests.reduce((n, r) => n + r.events.length, 0)).toBe(9);
    await sink.close();
  });

  it('sends a partly filled batch when it is old enough, without flush', async () => {
    const sink = createHecSink(hecConfig({ urls: [hec.url], batch: { maxAgeMs: 30 } }));
    const r = tracked(1);
    await sink.write(r.record);
    await expect.poll(() => r.outcomes.length, { timeout: 2000 }).toBe(1);
    expect(hec.requests).toHaveLength(1);
    await sink.close();
  });

  it('applies config index/host/sourcetype overrides only where the event has none', async () => {
    const sink = createHecSink(
      hecConfig({ urls: [hec.url], index: 'aws', host: 'h1', sourcetypes: { cloudtrail: 'custom:ct' } }),
    );
    await sink.write(tracked(1).record);
    await sink.write(tracked(2, event(2, { index: 'security', host: 'h2' })).record);
    await sink.flush();
    const [a, b] = hec.requests[0]!.events;
    expect(a).toMatchObject({ index: 'aws', host: 'h1', sourcetype: 'custom:ct' });
    expect(b).toMatchObject({ index: 'security', host: 'h2' });
    await sink.close();
  });

  it('rejects an event over maxEventBytes without sending it; the rest still flow', async () => {
    const sink = createHecSink(hecConfig({ urls: [hec.url], maxEventBytes: 500 }));
    const small = tracked(1);
    const huge = tracked(2, event(2, { event: { blob: 'y'.repeat(1000) } }));
    await sink.write(small.record);
    await sink.write(huge.record);
    await sink.flush();
    expect(huge.outcomes).toEqual([expect.objectContaining({ kind: 'reject', code: 'HEC_REJECTED' })]);
    expect(small.outcomes).toEqual([{ kind: 'ack' }]);
    expect(hec.requests[0]!.events).toHaveLength(1);
    await sink.close();
  });

  it('reads the token from tokenFile and requires exactly one token source', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hec-'));
    const file = path.join(dir, 'token');
    writeFileSync(file, 'file-token-9\n');
    const sink = createHecSink(hecSinkConfigSchema.parse({ urls: [hec.url], tokenFile: file }));
    await sink.write(tracked(1).record);
    await sink.flush();
    expect(hec.requests[0]!.headers.authorization).toBe('Splunk file-token-9');
    await sink.close();
    expect(() => hecSinkConfigSchema.parse({ urls: [hec.url] })).toThrow(/exactly one of token/);
    expect(() => hecSinkConfigSchema.parse({ urls: [hec.url], token: 'a', tokenFile: file })).toThrow();
  });
});

describe('HEC sink: retries, splits and fatal errors', () => {
  it('retries 503 honouring Retry-After, then delivers every record once', async () => {
    let calls = 0;
    hec.onEvent = () =>
      ++calls <= 2
        ? { status: 503, body: { text: 'Server is busy', code: 9 }, headers: { 'retry-after': '0' } }
        : { status: 200, body: { text: 'Success', code: 0 } };
    const sink = createHecSink(hecConfig({ urls: [hec.url], ...fast }));
    const records = Array.from({ length: 5 }, (_, i) => tracked(i));
    for (const r of records) await sink.write(r.record);
    await sink.flush();
    expect(outcomesOf(records)).toEqual(Array(5).fill('ack'));
    expect(sink.stats()).toMatchObject({ requests: 3, retried: 10, acked: 5 });
    await sink.close();
  });

  it('retries dropped connections', async () => {
    let calls = 0;
    hec.onEvent = () => (++calls === 1 ? 'destroy' : { status: 200, body: { code: 0 } });
    const sink = createHecSink(hecConfig({ urls: [hec.url], ...fast }));
    const r = tracked(1);
    await sink.write(r.record);
    await sink.flush();
    expect(r.outcomes).toEqual([{ kind: 'ack' }]);
    expect(sink.stats().retried).toBe(1);
    await sink.close();
  });

  it('fails (never drops) a batch once the retry window is spent', async () => {
    hec.onEvent = () => ({ status: 503, body: { text: 'Server is busy', code: 9 } });
    const sink = createHecSink(
      hecConfig({ urls: [hec.url], retry: { initialDelayMs: 5, maxDelayMs: 20, windowMs: 150 } }),
      {
        logger: captureLogger().log,
      },
    );
    const r = tracked(1);
    await sink.write(r.record);
    await sink.flush();
    expect(r.outcomes).toHaveLength(1);
    expect(r.outcomes[0]?.kind).toBe('fail');
    expect((r.outcomes[0]?.error as HecError | undefined)?.code).toBe('HEC_UNAVAILABLE');
    expect(hec.requests.length).toBeGreaterThan(1);
    await sink.close();
  });

  it('code 6 with invalid-event-number: rejects that event only, resends the rest', async () => {
    hec.onEvent = (req) => {
      const bad = req.events.findIndex((e) => (e.event as { n: number }).n === 3);
      return bad >= 0
        ? { status: 400, body: { text: 'Invalid data format', code: 6, 'invalid-event-number': bad } }
        : { status: 200, body: { code: 0 } };
    };
    const sink = createHecSink(hecConfig({ urls: [hec.url] }));
    const records = Array.from({ length: 8 }, (_, i) => tracked(i));
    for (const r of records) await sink.write(r.record);
    await sink.flush();
    expect(outcomesOf(records)).toEqual(['ack', 'ack', 'ack', 'reject', 'ack', 'ack', 'ack', 'ack']);
    expect(records[3]!.outcomes[0]).toMatchObject({
      code: 'HEC_REJECTED',
      reason: expect.stringContaining('code 6'),
    });
    expect(hec.requests.map((r) => r.events.length)).toEqual([8, 7]);
    expect(sink.stats()).toMatchObject({ split: 1, rejected: 1, resent: 7, acked: 7 });
    await sink.close();
  });

  it('code 15 without a position: halves the batch down to the one bad event', async () => {
    hec.onEvent = (req) =>
      req.events.some((e) => (e.event as { n: number }).n === 5)
        ? { status: 400, body: { text: 'Error in handling indexed fields', code: 15 } }
        : { status: 200, body: { code: 0 } };
    const sink = createHecSink(hecConfig({ urls: [hec.url] }));
    const records = Array.from({ length: 8 }, (_, i) => tracked(i));
    for (const r of records) await sink.write(r.record);
    await sink.flush();
    expect(outcomesOf(records).filter((o) => o === 'ack')).toHaveLength(7);
    expect(records[5]!.outcomes[0]?.kind).toBe('reject');
    expect(records.every((r) => r.outcomes.length === 1)).toBe(true);
    await sink.close();
  });

  it('a plain-text 401 blocks the sink with HEC_TOKEN_INVALID, logs once, never logs the token', async () => {
    hec.onEvent = () => ({ status: 401, body: 'Unauthorized' });
    const capture = captureLogger();
    const sink = createHecSink(hecConfig({ urls: [hec.url], batch: { maxEvents: 1 }, maxInFlight: 1 }), {
      logger: capture.log,
    });
    const records = Array.from({ length: 3 }, (_, i) => tracked(i));
    for (const r of records) await sink.write(r.record);
    await sink.flush();
    for (const r of records) {
      expect(r.outcomes).toHaveLength(1);
      expect(r.outcomes[0]?.kind).toBe('fail');
      expect(r.outcomes[0]?.error).toBeInstanceOf(HecError);
      expect((r.outcomes[0]?.error as HecError | undefined)?.code).toBe('HEC_TOKEN_INVALID');
    }
    // The first batch met the 401; the others failed fast while blocked.
    expect(hec.requests).toHaveLength(1);
    expect(sink.stats().blocked).toBe(true);
    const errors = capture.lines().filter((l) => l.level === 50);
    expect(errors).toHaveLength(1);
    expect(String(errors[0]?.msg)).toMatch(/blocked.*HTTP 401/);
    expect(capture.text()).not.toContain('unit-token-123');
    await sink.close();
  });

  it('maps HEC JSON codes for index and channel to their own errors', async () => {
    hec.onEvent = () => ({ status: 400, body: { text: 'Incorrect index', code: 7 } });
    const sink = createHecSink(hecConfig({ urls: [hec.url] }), { logger: captureLogger().log });
    const r = tracked(1);
    await sink.write(r.record);
    await sink.flush();
    expect((r.outcomes[0]?.error as HecError | undefined)?.code).toBe('HEC_INDEX_INVALID');
    await sink.close();
  });
});

describe('HEC sink: indexer acknowledgement', () => {
  it('counts a batch delivered only once its ackId is acked, polling until true', async () => {
    let ackId = 0;
    let polls = 0;
    hec.onEvent = () => ({ status: 200, body: { text: 'Success', code: 0, ackId: ackId++ } });
    hec.onAck = (ids) => {
      polls++;
      return { status: 200, body: { acks: Object.fromEntries(ids.map((id) => [id, polls >= 3])) } };
    };
    const sink = createHecSink(
      hecConfig({
        urls: [hec.url],
        maxInFlight: 1,
        ack: { enabled: true, pollIntervalMs: 10, maxPollIntervalMs: 20 },
      }),
    );
    const r = tracked(1);
    await sink.write(r.record);
    await sink.flush();
    expect(r.outcomes).toEqual([{ kind: 'ack' }]);
    expect(polls).toBeGreaterThanOrEqual(3);
    await sink.close();
  });

  it('resends a batch whose ack never comes, and counts the resend', async () => {
    let ackId = 0;
    hec.onEvent = () => ({ status: 200, body: { code: 0, ackId: ackId++ } });
    // The first ack is lost forever; later ones arrive.
    hec.onAck = (ids) => ({ status: 200, body: { acks: Object.fromEntries(ids.map((id) => [id, id > 0])) } });
    const sink = createHecSink(
      hecConfig({
        urls: [hec.url],
        maxInFlight: 1,
        ack: { enabled: true, pollIntervalMs: 10, timeoutMs: 100 },
      }),
      { logger: captureLogger().log },
    );
    const r = tracked(1);
    await sink.write(r.record);
    await sink.flush();
    expect(r.outcomes).toEqual([{ kind: 'ack' }]);
    expect(hec.requests).toHaveLength(2);
    expect(sink.stats().resent).toBe(1);
    await sink.close();
  });

  it('stops resending an unacknowledged batch once the retry window is spent, failing it', async () => {
    hec.onEvent = () => ({ status: 200, body: { code: 0, ackId: 0 } });
    hec.onAck = (ids) => ({ status: 200, body: { acks: Object.fromEntries(ids.map((id) => [id, false])) } });
    const sink = createHecSink(
      hecConfig({
        urls: [hec.url],
        ack: { enabled: true, pollIntervalMs: 10, timeoutMs: 40 },
        retry: { initialDelayMs: 5, maxDelayMs: 20, windowMs: 150 },
      }),
      { logger: captureLogger().log },
    );
    const r = tracked(1);
    await sink.write(r.record);
    await sink.flush();
    expect(r.outcomes).toHaveLength(1);
    expect((r.outcomes[0]?.error as HecError | undefined)?.code).toBe('HEC_UNAVAILABLE');
    expect(sink.stats().resent).toBeGreaterThan(0);
    await sink.close();
  });

  it('fails with HEC_ACK_DISABLED when the ack endpoint says ack is off', async () => {
    hec.onEvent = () => ({ status: 200, body: { code: 0, ackId: 0 } });
    hec.onAck = () => ({ status: 400, body: { text: 'ACK is disabled', code: 14 } });
    const sink = createHecSink(hecConfig({ urls: [hec.url], ack: { enabled: true, pollIntervalMs: 10 } }), {
      logger: captureLogger().log,
    });
    const r = tracked(1);
    await sink.write(r.record);
    await sink.flush();
    expect((r.outcomes[0]?.error as HecError | undefined)?.code).toBe('HEC_ACK_DISABLED');
    await sink.close();
  });

  it('treats 200 without an ackId as delivered (Splunk Cloud)', async () => {
    const sink = createHecSink(hecConfig({ urls: [hec.url], ack: { enabled: true } }), {
      logger: captureLogger().log,
    });
    const r = tracked(1);
    await sink.write(r.record);
    await sink.flush();
    expect(r.outcomes).toEqual([{ kind: 'ack' }]);
    await sink.close();
  });
});

describe('HEC sink: endpoints and back-pressure', () => {
  it('sends one batch after another over one connection when one at a time is in flight, though 16 may be', async () => {
    const sink = createHecSink(
      hecConfig({ urls: [hec.url], maxInFlight: 16, adaptiveConcurrency: { enabled: false } }),
    );
    for (let i = 1; i <= 6; i++) {
      const r = tracked(i);
      await sink.write(r.record);
      await sink.flush();
      expect(outcomesOf([r])).toEqual(['ack']);
    }
    await sink.close();
    expect(hec.requests).toHaveLength(6);
    expect(new Set(hec.requests.map((r) => r.remotePort)).size).toBe(1);
  });

  it('when told nothing more is coming, sends after the short idle age instead of the batch age', async () => {
    const sink = createHecSink(hecConfig({ urls: [hec.url], batch: { maxAgeMs: 60_000, idleAgeMs: 30 } }));
    const r = tracked(1);
    await sink.write(r.record);
    sink.sendNow?.();
    expect(hec.requests).toHaveLength(0);
    await expect.poll(() => outcomesOf([r]), { timeout: 1000 }).toEqual(['ack']);
    expect(hec.requests).toHaveLength(1);
    await sink.close();
  });

  it('spreads batches over several URLs and routes around one that is down', async () => {
    const other = await startFakeHec();
    // Nothing listens on port 9 on loopback: connections are refused.
    const sink = createHecSink(
      hecConfig({ urls: ['http://127.0.0.1:9', hec.url, other.url], batch: { maxEvents: 1 }, ...fast }),
      { logger: captureLogger().log },
    );
    const records = Array.from({ length: 20 }, (_, i) => tracked(i));
    for (const r of records) await sink.write(r.record);
    await sink.flush();
    expect(outcomesOf(records)).toEqual(Array(20).fill('ack'));
    expect(hec.requests.length).toBeGreaterThan(0);
    expect(other.requests.length).toBeGreaterThan(0);
    expect(hec.requests.length + other.requests.length).toBe(20);
    await sink.close();
    await other.close();
  });

  it('write() waits while the pending-batch window is full', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    hec.onEvent = async () => {
      await gate;
      return { status: 200, body: { code: 0 } };
    };
    const sink = createHecSink(hecConfig({ urls: [hec.url], batch: { maxEvents: 1 }, maxPendingBatches: 2 }));
    await sink.write(tracked(1).record);
    await sink.write(tracked(2).record);
    let thirdBuffered = false;
    const third = sink.write(tracked(3).record).then(() => {
      thirdBuffered = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(thirdBuffered).toBe(false);
    release();
    await third;
    expect(thirdBuffered).toBe(true);
    await sink.close();
  });

  it('refuses writes after close', async () => {
    const sink = createHecSink(hecConfig({ urls: [hec.url] }));
    await sink.close();
    await expect(sink.write(tracked(1).record)).rejects.toMatchObject({ code: 'HEC_CLOSED' });
  });
});
