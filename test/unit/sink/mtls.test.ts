import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHecSink } from '../../../src/sink/hec/index.js';
import { createElasticsearchClient } from '../../../src/sink/search/elasticsearch-client.js';
import { createOpenSearchClient } from '../../../src/sink/search/opensearch-client.js';
import { selfSignedPem } from '../support/self-signed.js';
import { startFakeHec } from './hec/fake-hec.js';
import { captureLogger, fast, hecConfig, tracked } from './hec/helpers.js';
import { config as searchConfig } from './search/support.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A server certificate for 127.0.0.1 and a client certificate, each self-signed, in files. */
function certificates() {
  const dir = mkdtempSync(join(tmpdir(), 'asc-mtls-'));
  const make = (name: string, altName?: string) => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const cert = selfSignedPem(privateKey, undefined, { commonName: name, ...(altName ? { altName } : {}) });
    const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(join(dir, `${name}.crt`), cert);
    writeFileSync(join(dir, `${name}.key`), key);
    return { cert, key, certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  };
  return { server: make('siem.test', 'IP:127.0.0.1'), client: make('connector') };
}

/** TLS options of a server that admits only clients presenting the given certificate. */
const requiringClient = (certs: ReturnType<typeof certificates>) => ({
  key: certs.server.key,
  cert: certs.server.cert,
  requestCert: true,
  rejectUnauthorized: true,
  ca: certs.client.cert,
});

describe('client certificates (mutual TLS)', () => {
  it('HEC: presents the configured certificate, and is refused without it', async () => {
    const certs = certificates();
    const hec = await startFakeHec({ tls: requiringClient(certs) });
    closers.push(() => hec.close());
    const send = async (tls: Record<string, string>) => {
      const sink = createHecSink(
        hecConfig({
          urls: [hec.url],
          tls,
          ...fast,
          retry: { initialDelayMs: 5, maxDelayMs: 20, windowMs: 300 },
        }),
        {
          logger: captureLogger().log,
        },
      );
      const r = tracked(1);
      await sink.write(r.record);
      await sink.flush();
      await sink.close();
      return r.outcomes.map((o) => o.kind);
    };
    expect(
      await send({
        caFile: certs.server.certFile,
        certFile: certs.client.certFile,
        keyFile: certs.client.keyFile,
      }),
    ).toEqual(['ack']);
    expect(hec.requests).toHaveLength(1);
    expect(await send({ caFile: certs.server.certFile })).toEqual(['fail']);
    expect(hec.requests).toHaveLength(1);
  });

  for (const flavour of ['opensearch', 'elasticsearch'] as const) {
    it(`${flavour}: presents the configured certificate, and is refused without it`, async () => {
      const certs = certificates();
      const server = createServer(requiringClient(certs), (req, res) => {
        req.resume();
        res.setHeader('content-type', 'application/json');
        // What an Elasticsearch node sends; the Elasticsearch client refuses a 200 without it.
        res.setHeader('x-elastic-product', 'Elasticsearch');
        res.end(
          JSON.stringify({
            tagline: 'You Know, for Search',
            client: (
              req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } }
            ).getPeerCertificate?.().subject?.CN,
          }),
        );
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      closers.push(() => new Promise((resolve) => server.close(resolve)));
      const node = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const create = flavour === 'opensearch' ? createOpenSearchClient : createElasticsearchClient;
      const withCert = create(
        searchConfig({
          flavour,
          node,
          tls: {
            caFile: certs.server.certFile,
            certFile: certs.client.certFile,
            keyFile: certs.client.keyFile,
          },
        }),
      );
      const answer = await withCert.request('GET', '/');
      expect(answer.status).toBe(200);
      expect((answer.body as { client?: string }).client).toBe('connector');
      const without = create(searchConfig({ flavour, node, tls: { caFile: certs.server.certFile } }));
      await expect(without.request('GET', '/')).rejects.toThrow();
    });
  }

  it('refuses a certificate without its key at start', () => {
    expect(() => hecConfig({ urls: ['https://hec:8088'], tls: { certFile: '/etc/asc/client.crt' } })).toThrow(
      /certFile and keyFile/,
    );
  });
});
