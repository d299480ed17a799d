import { createServer, type IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Client } from '@elastic/elasticsearch';
import type { MockPattern } from '@elastic/elasticsearch-mock';
import { describe, expect, it } from 'vitest';
import {
  createElasticsearchClient,
  elasticsearchClientOptions,
} from '../../../../src/sink/search/elasticsearch-client.js';
import { createSearchSink } from '../../../../src/sink/search/index.js';
import { config, record, silentLogger } from './support.js';

// The mock and its error classes are CommonJS; the ESM build of the client has distinct classes, so both
// come from require to be recognised by the mock.
const require = createRequire(import.meta.url);
const { errors } = require('@elastic/elasticsearch') as typeof import('@elastic/elasticsearch');

interface Mock {
  add(pattern: MockPattern, resolver: (params: MockPattern) => unknown): Mock;
  getConnection(): unknown;
}
const Mock = require('@elastic/elasticsearch-mock') as new () => Mock;

type ClientOptions = ConstructorParameters<typeof Client>[0];
interface SentRequest {
  path: string;
  querystring?: unknown;
  headers: Record<string, string>;
  body?: unknown;
}
type ConnectionClass = new (
  ...args: never[]
) => { request(params: SentRequest, options: unknown): Promise<unknown> };

/** The mock's connection, recording each request's headers and query string as the client sent them. */
function recordingClient(mock: Mock, options: ClientOptions) {
  const seen: Array<{ path: string; querystring: string; headers: Record<string, string> }> = [];
  const Base = mock.getConnection() as ConnectionClass;
  class Recording extends Base {
    override request(params: SentRequest, opts: unknown) {
      seen.push({
        path: params.path,
        querystring: String(params.querystring ?? ''),
        headers: { ...params.headers },
      });
      // The sink sends bulk bodies as bytes; the mock parses NDJSON only from text.
      const body = Buffer.isBuffer(params.body) ? params.body.toString('utf8') : params.body;
      return super.request({ ...params, body }, opts);
    }
  }
  const client = new Client({ ...options, Connection: Recording as unknown as ClientOptions['Connection'] });
  return { client, seen };
}

describe('Elasticsearch client wiring', () => {
  it('sends one NDJSON bulk body of create actions with the API key and a filter_path, and maps items', async () => {
    const mock = new Mock();
    let bodies: unknown[] = [];
    mock.add({ method: 'POST', path: '/_bulk' }, (params) => {
      bodies = params.body as unknown[];
      return {
        errors: true,
        items: [
          { create: { status: 201 } },
          { create: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'exists' } } },
        ],
      };
    });
    const cfg = config({
      flavour: 'elasticsearch',
      node: 'https://es.example:9200',
      auth: { apiKey: 'c2VjcmV0LWtleQ==' },
      target: { mode: 'datastream', namespace: 'prod' },
    });
    const { client, seen } = recordingClient(mock, elasticsearchClientOptions(cfg));
    const sink = createSearchSink(cfg, {
      client: createElasticsearchClient(cfg, client),
      logger: silentLogger,
    });
    const a = record('evt-a', { 'event.action': 'ConsoleLogin' });
    const b = record('evt-b');
    await sink.write(a);
    await sink.write(b);
    await sink.flush();

    expect(bodies).toEqual([
      { create: { _index: 'logs-aws.cloudtrail-prod', _id: 'evt-a' } },
      a.doc,
      { create: { _index: 'logs-aws.cloudtrail-prod', _id: 'evt-b' } },
      b.doc,
    ]);
    expect(seen[0]!.headers.authorization).toBe('ApiKey c2VjcmV0LWtleQ==');
    expect(seen[0]!.headers['content-type']).toContain('x-ndjson');
    expect(decodeURIComponent(seen[0]!.querystring)).toContain('filter_path=errors,items.*.status');
    expect(a.settled).toEqual([{ outcome: 'ack' }]);
    expect(b.settled).toEqual([{ outcome: 'ack' }]);
    expect(sink.stats()).toMatchObject({ indexed: 1, duplicates: 1 });
  });

  it('uses basic authentication and reports a whole-request error as a status, not a throw', async () => {
    const mock = new Mock();
    mock.add(
      { method: 'GET', path: '/_index_template/x' },
      () =>
        new errors.ResponseError({
          body: { error: { type: 'security_exception', reason: 'unauthorized' } },
          statusCode: 403,
          headers: {},
          warnings: null,
          meta: {} as never,
        }),
    );
    const cfg = config({
      flavour: 'elasticsearch',
      node: 'https://es.example:9200',
      auth: { username: 'elastic', password: 'pw' },
    });
    const { client, seen } = recordingClient(mock, elasticsearchClientOptions(cfg));
    const res = await createElasticsearchClient(cfg, client).request('GET', '/_index_template/x');
    expect(res.status).toBe(403);
    expect(seen[0]!.headers.authorization).toBe(`Basic ${Buffer.from('elastic:pw').toString('base64')}`);
  });

  it('configures cloud id, TLS verification on by default, and no client-side retries', () => {
    const options = elasticsearchClientOptions(
      config({
        flavour: 'elasticsearch',
        node: undefined,
        cloudId: 'deploy:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyQxMjMkNDU2',
      }),
    );
    expect(options.cloud).toEqual({ id: 'deploy:ZXUtd2VzdC0xLmF3cy5mb3VuZC5pbyQxMjMkNDU2' });
    expect(options.node).toBeUndefined();
    expect(options.tls).toEqual({ rejectUnauthorized: true });
    expect(options.maxRetries).toBe(0);
  });

  it('asks for REST API compatibility with 8 on the wire, which Elasticsearch 8.x and 9.x both accept', async () => {
    // Plays an 8.x node: it refuses what Elasticsearch 8 refuses, a compatible-with other than 7 or 8.
    const seen: Array<{ method: string; path: string; headers: IncomingHttpHeaders }> = [];
    const server = createServer((req, res) => {
      seen.push({ method: req.method!, path: req.url!.split('?')[0]!, headers: req.headers });
      req.resume();
      req.on('end', () => {
        const versions = [req.headers.accept, req.headers['content-type']]
          .map((h) => /compatible-with=(\d+)/.exec(h ?? '')?.[1])
          .filter(Boolean);
        const refused = versions.some((v) => v !== '8' && v !== '7');
        const body = refused
          ? { error: { type: 'media_type_header_exception' }, status: 400 }
          : req.url!.startsWith('/_bulk')
            ? { errors: false, items: [{ create: { status: 201 } }] }
            : { version: { number: '8.19.0' } };
        res.writeHead(refused ? 400 : 200, {
          'content-type': 'application/vnd.elasticsearch+json;compatible-with=8',
          'x-elastic-product': 'Elasticsearch',
        });
        res.end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const cfg = config({
      flavour: 'elasticsearch',
      node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    });
    const client = createElasticsearchClient(cfg);
    try {
      const bulk = await client.bulk(Buffer.from('{"create":{"_index":"i","_id":"1"}}\n{"a":1}\n'));
      const get = await client.request('GET', '/');
      const put = await client.request('PUT', '/_index_template/x', { index_patterns: ['x-*'] });
      expect([bulk.status, get.status, put.status]).toEqual([200, 200, 200]);
    } finally {
      await client.close();
      await new Promise((resolve) => server.close(resolve));
    }
    const byPath = Object.fromEntries(seen.map((s) => [`${s.method} ${s.path}`, s.headers]));
    expect(byPath['POST /_bulk']).toMatchObject({
      accept: 'application/vnd.elasticsearch+json; compatible-with=8',
      'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=8',
    });
    for (const request of ['GET /', 'PUT /_index_template/x']) {
      expect(byPath[request]).toMatchObject({
        accept: 'application/vnd.elasticsearch+json; compatible-with=8',
        'content-type': 'application/vnd.elasticsearch+json; compatible-with=8',
      });
    }
    expect(JSON.stringify(seen)).not.toContain('compatible-with=9');
  });
});
