import { describe, expect, it } from 'vitest';
import { createSearchSink } from '../../../../src/sink/search/index.js';
import { config, created, FakeClient, record, silentLogger } from './support.js';

/** A cluster whose root answers 200, as it does to credentials that may read but not write. */
const rootOk = () => ({ status: 200, body: { version: { number: '2.19.0' } } });

describe('search sink: readiness (check)', () => {
  it('is ready when the cluster answers and nothing blocks the sink', async () => {
    const sink = createSearchSink(config(), {
      client: new FakeClient(undefined, rootOk),
      logger: silentLogger,
    });
    await expect(sink.check()).resolves.toBeUndefined();
  });

  it('is not ready while bulk requests are refused (401/403), though the cluster root answers; ready once one goes through', async () => {
    const client = new FakeClient(
      () => ({
        status: 403,
        errors: true,
        error: { error: { type: 'security_exception', reason: 'no write privilege' } },
      }),
      rootOk,
    );
    const sink = createSearchSink(config(), { client, logger: silentLogger });
    const r = record('a');
    await sink.write(r);
    await sink.flush();
    expect(r.settled[0]?.outcome).toBe('fail');
    await expect(sink.check()).rejects.toMatchObject({
      code: 'SEARCH_AUTH',
      message: expect.stringMatching(/blocked.*HTTP 403.*no write privilege/),
    });

    client.respond = (call) => created(call);
    await sink.write(record('b'));
    await sink.flush();
    await expect(sink.check()).resolves.toBeUndefined();
    await sink.close();
  });

  it('is not ready while every item is refused for an index-level reason', async () => {
    const client = new FakeClient(
      (call) =>
        created(
          call,
          Object.fromEntries(
            call.ids.map((id) => [
              id,
              { status: 404, error: { type: 'index_not_found_exception', reason: 'no such index' } },
            ]),
          ),
        ),
      rootOk,
    );
    const sink = createSearchSink(config(), { client, logger: silentLogger });
    await sink.write(record('a'));
    await sink.flush();
    await expect(sink.check()).rejects.toMatchObject({ code: 'SEARCH_FAILED' });
    await sink.close();
  });

  it('is not ready while template setup is refused; ready once setup succeeds', async () => {
    let refuse = true;
    const client = new FakeClient(undefined, () =>
      refuse ? { status: 403, body: { error: 'forbidden' } } : rootOk(),
    );
    const sink = createSearchSink(config({ setup: { auto: true } }), { client, logger: silentLogger });
    await sink.write(record('a'));
    await sink.flush();
    refuse = false;
    // The cluster root answers again, yet setup has not been retried: the sink is still blocked.
    const err = await sink.check().then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.code).toBe('SEARCH_SETUP');
    expect(err?.message).toMatch(/blocked: template setup failed/);
    await sink.write(record('b'));
    await sink.flush();
    await expect(sink.check()).resolves.toBeUndefined();
    await sink.close();
  });

  it('stays ready after a document is rejected for its own content (a dead letter, not a sink problem)', async () => {
    const client = new FakeClient(
      (call) =>
        created(call, {
          a: { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse' } },
        }),
      rootOk,
    );
    const sink = createSearchSink(config(), { client, logger: silentLogger });
    await sink.write(record('a'));
    await sink.flush();
    await expect(sink.check()).resolves.toBeUndefined();
    await sink.close();
  });
});
