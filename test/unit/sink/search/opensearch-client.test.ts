import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SearchTransportError } from '../../../../src/sink/search/index.js';
import { createOpenSearchClient } from '../../../../src/sink/search/opensearch-client.js';
import { config } from './support.js';

/** A loopback HTTP server that records what the real client sends and answers like a bulk endpoint. */
let server: Server;
let url: string;
const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/_bulk')) {
        const n = body.split('\n').filter(Boolean).length / 2;
        res.end(
          JSON.stringify({
            errors: false,
            items: Array.from({ length: n }, () => ({ create: { status: 201 } })),
          }),
        );
      } else {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: { type: 'resource_not_found_exception', reason: 'missing' } }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('OpenSearch client wiring', () => {
  it('signs requests with SigV4 from the default credential chain for OpenSearch Serverless', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    try {
      const client = createOpenSearchClient(
        config({ node: url, auth: { sigv4: { region: 'eu-west-1', service: 'aoss' } } }),
      );
      const res = await client.bulk(Buffer.from('{"create":{"_index":"i","_id":"1"}}\n{"a":1}\n'));
      expect(res).toEqual({ status: 200, errors: false, items: [{ status: 201 }] });
      const req = seen.at(-1)!;
      expect(req.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/aoss\/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$/,
      );
      expect(req.headers['x-amz-content-sha256']).toMatch(/^[0-9a-f]{64}$/);
      expect(req.url).toContain('filter_path=');
      await client.close();
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('sends basic credentials and returns HTTP errors as statuses', async () => {
    const client = createOpenSearchClient(
      config({ node: url, auth: { username: 'admin', password: 's3cret' } }),
    );
    const res = await client.request('GET', '/_index_template/none');
    expect(res.status).toBe(404);
    expect(seen.at(-1)!.headers.authorization).toBe(
      `Basic ${Buffer.from('admin:s3cret').toString('base64')}`,
    );
    await client.close();
  });

  it('throws a transport error when nothing listens', async () => {
    const client = createOpenSearchClient(config({ node: 'http://127.0.0.1:9' }));
    await expect(
      client.bulk(Buffer.from('{"create":{"_index":"i","_id":"1"}}\n{}\n')),
    ).rejects.toBeInstanceOf(SearchTransportError);
    await client.close();
  });
});
