import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { routedFetch, useProxyConfig } from '../../../src/network/index.js';
import { createHecSink } from '../../../src/sink/hec/index.js';
import { Endpoint, laneDispatcher } from '../../../src/sink/hec/transport.js';
import { startFakeHec } from '../sink/hec/fake-hec.js';
import { captureLogger, fast, hecConfig, tracked } from '../sink/hec/helpers.js';
import { type ForwardProxy, startForwardProxy } from '../support/forward-proxy.js';
import { selfSignedPem } from '../support/self-signed.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // In reverse: clients before the servers they hold connections to.
  // In reverse: clients before the servers they hold connections to.
  for (const close of closers.splice(0).reverse()) await close();
  useProxyConfig(undefined, { env: {} });
});

async function proxy(): Promise<ForwardProxy> {
  const started = await startForwardProxy();
  closers.push(() => started.close());
  return started;
}

/** A key and a certificate for 127.0.0.1, and the certificate in a file (the CA a client may trust). */
function localhostCertificate() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cert = selfSignedPem(privateKey, undefined, { commonName: 'hec.test', altName: 'IP:127.0.0.1' });
  const caFile = join(tmpdir(), `asc-hec-ca-${process.pid}-${Date.now()}.pem`);
  writeFileSync(caFile, cert);
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert, caFile };
}

/** A HEC stand-in serving TLS for 127.0.0.1, and a forward proxy every https destination goes through. */
async function tlsHecBehindProxy() {
  const tls = localhostCertificate();
  const hec = await startFakeHec({ tls });
  closers.push(() => hec.close());
  const forward = await proxy();
  useProxyConfig({ https: forward.url }, { env: {} });
  return { tls, hec, forward };
}

describe('HEC through a proxy', () => {
  it('delivers over TLS verified end to end with the indexer, inside a CONNECT tunnel', async () => {
    const { tls, hec, forward } = await tlsHecBehindProxy();
    const sink = createHecSink(hecConfig({ urls: [hec.url], tls: { caFile: tls.caFile }, ...fast }), {
      logger: captureLogger().log,
    });
    const records = Array.from({ length: 5 }, (_, i) => tracked(i));
    for (const r of records) await sink.write(r.record);
    await sink.flush();
    await sink.close();
    expect(records.map((r) => r.outcomes.map((o) => o.kind).join())).toEqual(Array(5).fill('ack'));
    expect(hec.requests.flatMap((r) => r.events)).toHaveLength(5);
    expect(forward.tunnels).toContain(new URL(hec.url).host);
  });

  it('refuses an indexer certificate it cannot verify, proxy or not', async () => {
    const { hec, forward } = await tlsHecBehindProxy();
    const endpoint = new Endpoint(hec.url);
    const dispatcher = laneDispatcher(endpoint, hecConfig({ urls: [hec.url] }));
    closers.push(() => dispatcher.destroy());
    const failure = await dispatcher
      .request({ origin: endpoint.origin, path: '/services/collector/health', method: 'GET' })
      .then(
        () => undefined,
        (err: Error) => err,
      );
    expect(failure?.message).toMatch(/self[- ]signed certificate/i);
    expect(forward.tunnels).toContain(endpoint.origin.replace('https://', ''));
    expect(hec.healthChecks).toBe(0);
  });
});

describe('routedFetch through a proxy', () => {
  it('sends the bytes and content type the platform makes of FormData and URLSearchParams bodies', async () => {
    const seen: { method?: string; type?: string; body: string }[] = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method,
          type: req.headers['content-type'],
          body: Buffer.concat(chunks).toString(),
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/saved_objects/_import`;
    const forward = await proxy();
    useProxyConfig({ http: forward.url }, { env: {} });

    const form = new FormData();
    form.append('file', new Blob(['{"id":"a"}\n'], { type: 'application/ndjson' }), 'export.ndjson');
    const first = await routedFetch(url, { method: 'POST', headers: { 'kbn-xsrf': 'true' }, body: form });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ ok: true });
    const second = await routedFetch(url, { method: 'POST', body: new URLSearchParams({ name: 'x y' }) });
    expect(second.ok).toBe(true);

    expect(seen[0]?.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen[0]?.body).toContain('filename="export.ndjson"');
    expect(seen[0]?.body).toContain('{"id":"a"}');
    expect(seen[1]).toMatchObject({
      method: 'POST',
      type: 'application/x-www-form-urlencoded;charset=UTF-8',
      body: 'name=x+y',
    });
    expect(forward.tunnels.filter((t) => t === new URL(url).host)).not.toHaveLength(0);
  });
});
