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

/** Waits for `work`, or `ms` at most: a test of a fix must fail, not hang, without it. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** Timers keeping the process alive. */
const liveTimers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** Makes the fake HEC hold every reply (a success) until the returned function is called. */
function holdReplies(): () => void {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  hec.onEvent = async () => {
    await gate;
    return { status: 200, body: { code: 0 } };
  };
  return release;
}

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

  it("routes each event to its account's index, else its log type's, else the sink's", async () => {
    const sink = createHecSink(
      hecConfig({
        urls: [hec.url],
        index: 'aws',
        indexes: { vpcflow: 'aws_vpcflow' },
        accountIndexes: { '111122223333': 'tenant_a' },
      }),
    );
    // The account whose log a record is travels on the record (the pipeline sets it), not in the envelope.
    const of = (account: string | undefined, t: ReturnType<typeof tracked>, logType = t.record.logType) => {
      Object.assign(t.record, { account, logType });
      return t;
    };
    const flowEvent = (n: number) =>
      tracked(n, event(n, { sourcetype: 'aws:cloudwatchlogs:vpcflow', event: `line ${n}` }));
    const records = [
      of('444455556666', tracked(1)),
      of('111122223333', tracked(2)),
      of('444455556666', flowEvent(3), 'vpcflow'),
      of('111122223333', flowEvent(4), 'vpcflow'),
      of('111122223333', tracked(5, event(5, { index: 'security' }))),
      tracked(6),
    ];
    for (const r of records) await sink.write(r.record);
    await sink.flush();
    const sent = hec.requests.flatMap((r) => r.events);
    expect(sent.map((e) => e.index)).toEqual([
      'aws',
      'tenant_a',
      'aws_vpcflow',
      'tenant_a',
      'security',
      'aws',
    ]);
    await sink.close();
  });

  it('refuses index names Splunk would refuse, and account keys that are not account ids', () => {
    for (const bad of [{ index: 'Main' }, { index: '_internal' }, { indexes: { cloudtrail: 'aws trail' } }]) {
      expect(() => hecConfig({ urls: [hec.url], ...bad })).toThrow(/Splunk index name/);
    }
    expect(() => hecConfig({ urls: [hec.url], accountIndexes: { '1234': 'tenant_a' } })).toThrow(
      /12-digit AWS account id/,
    );
  });

  it('sends the CIM fields as indexed fields unless indexedFields is off', async () => {
    for (const indexedFields of [true, false]) {
      hec.requests.length = 0;
      const sink = createHecSink(hecConfig({ urls: [hec.url], indexedFields }));
      await sink.write(tracked(1).record);
      await sink.flush();
      const [sent] = hec.requests[0]!.events;
      expect(sent).toMatchObject({ sourcetype: 'aws:cloudtrail' });
      expect((sent as { fields?: unknown }).fields !== undefined).toBe(indexedFields);
      await sink.close();
    }
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

  it.each([
    ['a login page', 200, '<html><form action="/login">Sign in</form></html>', 'text/html'],
    ["a load balancer's fixed 200", 200, 'OK', 'text/plain'],
    ['an empty JSON object', 200, '{}', 'application/json'],
    ['an empty 204', 204, '', 'text/plain'],
  ])(
    'a 2xx without HEC success reply (%s) never acks: records fail back, the sink blocks',
    async (_name, status, body, type) => {
      hec.onEvent = () => ({ status, body, headers: { 'content-type': type } });
      const capture = captureLogger();
      const sink = createHecSink(hecConfig({ urls: [hec.url] }), { logger: capture.log });
      const records = [tracked(1), tracked(2)];
      for (const r of records) await sink.write(r.record);
      await sink.flush();
      expect(outcomesOf(records)).toEqual(['fail', 'fail']);
      expect((records[0]!.outcomes[0]?.error as HecError | undefined)?.code).toBe('HEC_FOREIGN_RESPONSE');
      expect(sink.stats()).toMatchObject({ acked: 0, blocked: true });
      const errors = capture.lines().filter((l) => l.level === 50);
      expect(errors).toHaveLength(1);
      const msg = String(errors[0]?.msg);
      expect(msg).toContain(hec.url);
      expect(msg).toContain(`HTTP ${status}, content-type ${type}`);
      if (body) expect(msg).toContain(JSON.stringify(body.slice(0, 20)).slice(0, -1));
      await sink.close();
    },
  );

  it('never logs the token, even when a foreign reply echoes the request headers', async () => {
    hec.onEvent = (req) => ({
      status: 200,
      body: `request headers: authorization=${req.headers.authorization}`,
      headers: { 'content-type': 'text/plain' },
    });
    const capture = captureLogger();
    const sink = createHecSink(hecConfig({ urls: [hec.url] }), { logger: capture.log });
    const r = tracked(1);
    await sink.write(r.record);
    await sink.flush();
    expect(r.outcomes[0]?.kind).toBe('fail');
    expect(capture.text()).toContain('authorization=Splunk [token]');
    expect(capture.text()).not.toContain('unit-token-123');
    expect(r.outcomes[0]?.error?.message).not.toContain('unit-token-123');
    await sink.close();
  });

  it.each([
    ['<html><center>The plain HTTP request was sent to HTTPS port</center></html>'],
    ['<html><head><title>400 Request Header Or Cookie Too Large</title></head></html>'],
  ])(
    'a 400 without a HEC code (%s) blocks: one request, records failed back, none dead-lettered',
    async (body) => {
      hec.onEvent = () => ({ status: 400, body, headers: { 'content-type': 'text/html' } });
      const capture = captureLogger();
      const sink = createHecSink(hecConfig({ urls: [hec.url] }), { logger: capture.log });
      const records = Array.from({ length: 8 }, (_, i) => tracked(i));
      for (const r of records) await sink.write(r.record);
      await sink.flush();
      expect(hec.requests).toHaveLength(1);
      expect(outcomesOf(records)).toEqual(Array(8).fill('fail'));
      expect((records[0]!.outcomes[0]?.error as HecError | undefined)?.code).toBe('HEC_FOREIGN_RESPONSE');
      expect(sink.stats()).toMatchObject({ split: 0, rejected: 0, blocked: true });
      expect(String(capture.lines().find((l) => l.level === 50)?.msg)).toContain(
        'HTTP 400, content-type text/html',
      );
      await sink.close();
    },
  );

  it('413 splits until the requests fit; an event too large alone is rejected, the rest delivered', async () => {
    // A proxy's body limit: the middle event alone is over it.
    hec.onEvent = (req) =>
      Buffer.byteLength(req.raw) > 2_000
        ? {
            status: 413,
            body: '<html>413 Request Entity Too Large</html>',
            headers: { 'content-type': 'text/html' },
          }
        : { status: 200, body: { code: 0 } };
    const sink = createHecSink(hecConfig({ urls: [hec.url], gzip: false }), { logger: captureLogger().log });
    const records = Array.from({ length: 6 }, (_, i) =>
      tracked(
        i,
        i === 3
          ? event(i, { event: { blob: 'y'.repeat(3_000) } })
          : event(i, { event: { pad: 'z'.repeat(300) } }),
      ),
    );
    for (const r of records) await sink.write(r.record);
    await sink.flush();
    expect(outcomesOf(records)).toEqual(['ack', 'ack', 'ack', 'reject', 'ack', 'ack']);
    expect(records[3]!.outcomes[0]?.reason).toMatch(/HTTP 413/);
    expect(sink.stats().blocked).toBe(false);
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

  it('treats 200 without an ackId as delivered (Splunk Cloud), warning once that acks are not in effect at that URL', async () => {
    const capture = captureLogger();
    const sink = createHecSink(hecConfig({ urls: [hec.url], ack: { enabled: true } }), {
      logger: capture.log,
    });
    const records = [tracked(1), tracked(2)];
    for (const r of records) {
      await sink.write(r.record);
      await sink.flush();
    }
    expect(outcomesOf(records)).toEqual(['ack', 'ack']);
    const warnings = capture.lines().filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.msg)).toContain(hec.url);
    expect(String(warnings[0]?.msg)).toMatch(/acknowledgement is not in effect/);
    await sink.close();
  });

  it('sends the cookies the endpoint set (load balancer stickiness) back on its channel, ack polls included', async () => {
    let ackId = 0;
    hec.onEvent = () => ({
      status: 200,
      headers: { 'set-cookie': 'AWSALB=indexer-2; Path=/' },
      body: { text: 'Success', code: 0, ackId: ackId++ },
    });
    const ackCookies: (string | undefined)[] = [];
    hec.onAck = (ids, req) => {
      ackCookies.push(req.headers.cookie as string | undefined);
      return { status: 200, body: { acks: Object.fromEntries(ids.map((id) => [id, true])) } };
    };
    const sink = createHecSink(
      hecConfig({ urls: [hec.url], maxInFlight: 1, ack: { enabled: true, pollIntervalMs: 10 } }),
    );
    const records = [tracked(1), tracked(2)];
    for (const r of records) {
      await sink.write(r.record);
      await sink.flush();
    }
    expect(outcomesOf(records)).toEqual(['ack', 'ack']);
    expect(hec.requests[0]?.headers.cookie).toBeUndefined();
    expect(hec.requests[1]?.headers.cookie).toBe('AWSALB=indexer-2');
    expect(ackCookies.length).toBeGreaterThan(0);
    for (const cookie of ackCookies) expect(cookie).toBe('AWSALB=indexer-2');
    await sink.close();
  });

  it('with ack off, counts a 200 with an ackId delivered, warning once that the token acks but nothing polls', async () => {
    let ackId = 0;
    hec.onEvent = () => ({ status: 200, body: { text: 'Success', code: 0, ackId: ackId++ } });
    let polls = 0;
    hec.onAck = () => {
      polls++;
      return { status: 200, body: { acks: {} } };
    };
    const capture = captureLogger();
    const sink = createHecSink(hecConfig({ urls: [hec.url] }), { logger: capture.log });
    const records = [tracked(1), tracked(2)];
    for (const r of records) {
      await sink.write(r.record);
      await sink.flush();
    }
    expect(outcomesOf(records)).toEqual(['ack', 'ack']);
    expect(polls).toBe(0);
    const warnings = capture.lines().filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.msg)).toMatch(/sinks\.hec\.ack\.enabled is off/);
    await sink.close();
  });

  it('an ackId handed out again on a channel: the older batch is resent at once, each record acked once', async () => {
    // The indexer restarted between the two batches: its ackIds count from 0 again on the same channel.
    const ids = [0, 0, 1];
    let posts = 0;
    let zeroRead = false;
    hec.onEvent = () => ({ status: 200, body: { text: 'Success', code: 0, ackId: ids[posts++] ?? posts } });
    hec.onAck = (asked) => ({
      status: 200,
      body: {
        acks: Object.fromEntries(
          asked.map((id) => {
            // Read-once: id 0 (by then the second batch's) is true once the older batch was sent again;
            // later ids at once.
            if (id !== 0) return [id, true];
            const done = posts >= 3 && !zeroRead;
            if (done) zeroRead = true;
            return [id, done];
          }),
        ),
      },
    });
    const capture = captureLogger();
    const sink = createHecSink(
      hecConfig({
        urls: [hec.url],
        maxInFlight: 1,
        batch: { maxEvents: 1 },
        // Long enough that only the fix (not the ack time-out) resends the older batch within the test.
        ack: { enabled: true, pollIntervalMs: 10, maxPollIntervalMs: 20, timeoutMs: 60_000 },
      }),
      { logger: capture.log },
    );
    const records = [tracked(1), tracked(2)];
    for (const r of records) await sink.write(r.record);
    await within(sink.flush(), 3_000);
    expect(outcomesOf(records)).toEqual(['ack', 'ack']);
    expect(hec.requests.map((r) => (r.events[0]!.event as { n: number }).n)).toEqual([1, 2, 1]);
    expect(sink.stats().resent).toBe(1);
    expect(capture.text()).toMatch(/ackId to a newer batch/);
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
    const release = holdReplies();
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

  it('close() waits for a write that was waiting for room, then leaves no timer behind', async () => {
    const release = holdReplies();
    const sink = createHecSink(hecConfig({ urls: [hec.url], batch: { maxEvents: 1 }, maxPendingBatches: 1 }));
    const timersBefore = liveTimers();
    const first = tracked(1);
    const second = tracked(2);
    await sink.write(first.record);
    // The window is full: this write waits until the first batch is delivered.
    const waiting = sink.write(second.record);
    const closing = sink.close();
    // Taken after close() was called: refused at once, not buffered behind the others.
    await expect(sink.write(tracked(3).record)).rejects.toMatchObject({ code: 'HEC_CLOSED' });
    release();
    await waiting;
    await within(closing, 3_000);
    expect(outcomesOf([first, second])).toEqual(['ack', 'ack']);
    expect(hec.requests.flatMap((r) => r.events.map((e) => (e.event as { n: number }).n))).toEqual([1, 2]);
    expect(liveTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('Retry-After is capped at the max delay: a 900 s one does not hold the batch or the others', async () => {
    let calls = 0;
    hec.onEvent = () =>
      ++calls === 1
        ? { status: 503, body: { text: 'Server is busy', code: 9 }, headers: { 'retry-after': '900' } }
        : { status: 200, body: { code: 0 } };
    const sink = createHecSink(
      hecConfig({
        urls: [hec.url],
        maxInFlight: 1,
        batch: { maxEvents: 1 },
        retry: { initialDelayMs: 5, maxDelayMs: 50, windowMs: 10_000 },
        healthCheckIntervalMs: 20,
      }),
      { logger: captureLogger().log },
    );
    const timersBefore = liveTimers();
    const records = [tracked(1), tracked(2)];
    for (const r of records) await sink.write(r.record);
    await within(sink.flush(), 2_000);
    expect(outcomesOf(records)).toEqual(['ack', 'ack']);
    await within(sink.close(), 2_000);
    // No wait for the endpoint's down time outlives the sink.
    expect(liveTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('an endpoint that stays down: its health is probed, and waiting batches fail back when the window is spent', async () => {
    hec.onEvent = () => ({ status: 503, body: { text: 'Server is busy', code: 9 } });
    hec.onHealth = () => ({ status: 503, body: { text: 'HEC is unhealthy, queues are full', code: 18 } });
    const capture = captureLogger();
    const sink = createHecSink(
      hecConfig({
        urls: [hec.url],
        maxInFlight: 1,
        batch: { maxEvents: 1 },
        retry: { initialDelayMs: 5, maxDelayMs: 20, windowMs: 300 },
        healthCheckIntervalMs: 20,
      }),
      { logger: capture.log },
    );
    const started = Date.now();
    const records = [tracked(1), tracked(2)];
    for (const r of records) await sink.write(r.record);
    await within(sink.flush(), 3_000);
    expect(outcomesOf(records)).toEqual(['fail', 'fail']);
    for (const r of records) expect(r.outcomes[0]?.error).toMatchObject({ code: 'HEC_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(2_000);
    // After the first refusal, /health (not another batch) was asked whether the endpoint recovered.
    expect(hec.requests).toHaveLength(1);
    expect(hec.healthChecks).toBeGreaterThan(1);
    expect(capture.text()).toMatch(/is unhealthy \(HTTP 503\)/);
    await sink.close();
  });

  it('refuses writes after close', async () => {
    const sink = createHecSink(hecConfig({ urls: [hec.url] }));
    await sink.close();
    await expect(sink.write(tracked(1).record)).rejects.toMatchObject({ code: 'HEC_CLOSED' });
  });
});
