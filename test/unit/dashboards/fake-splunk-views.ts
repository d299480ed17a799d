import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Splunk's data/ui/views REST endpoint as far as `dashboards install` uses it (no Splunk can run here):
 * GET servicesNS/<owner>/<app>/data/ui/views/<name>, POST .../views (create, 409 when it exists) and
 * POST .../views/<name> (update), with output_mode=json answers that carry the stored entry, as Splunk's
 * do. Views live in `views`, so tests can edit them as a user would between installs.
 */
export interface FakeSplunkViews {
  views: Map<string, string>;
  /** What a write stores instead of what it was sent (a Splunk that does not keep the XML verbatim). */
  normalize?: (xml: string) => string;
  /** Answer writes without the entry, so the installer has to read the view back. */
  bareWrites?: boolean;
  /** Answer reads of an existing view with this instead (a malformed answer). */
  readReply?: { status: number; body: unknown };
  /** Handles a request if it is for data/ui/views; false when it is not. */
  handle(method: string, url: URL, body: string, send: (status: number, payload: unknown) => void): boolean;
}

export function fakeSplunkViews(): FakeSplunkViews {
  const fake: FakeSplunkViews = {
    views: new Map(),
    handle(method, url, body, send) {
      const m = /\/servicesNS\/([^/]+)\/([^/]+)\/data\/ui\/views(?:\/([^/]+))?$/.exec(url.pathname);
      if (!m) return false;
      if (url.searchParams.get('output_mode') !== 'json') {
        send(400, { messages: [{ type: 'ERROR', text: 'this fake answers output_mode=json only' }] });
        return true;
      }
      const app = decodeURIComponent(m[2]!);
      const name = m[3] && decodeURIComponent(m[3]);
      const entry = (n: string) => ({
        entry: [
          {
            name: n,
            acl: { app, owner: 'nobody', sharing: 'app' },
            content: { 'eai:data': fake.views.get(n), 'eai:appName': app, isDashboard: true },
          },
        ],
      });
      const notFound = () =>
        send(404, { messages: [{ type: 'ERROR', text: `Could not find object id=${name}` }] });
      if (method === 'GET') {
        if (!name || !fake.views.has(name)) notFound();
        else if (fake.readReply) send(fake.readReply.status, fake.readReply.body);
        else send(200, entry(name));
        return true;
      }
      if (method !== 'POST') {
        send(405, {});
        return true;
      }
      const form = new URLSearchParams(body);
      const data = form.get('eai:data');
      const target = name ?? form.get('name');
      if (!target || data === null) {
        send(400, { messages: [{ type: 'ERROR', text: 'name and eai:data are required' }] });
        return true;
      }
      if (!name && fake.views.has(target)) {
        send(409, { messages: [{ type: 'ERROR', text: `An object with name=${target} already exists` }] });
        return true;
      }
      if (name && !fake.views.has(target)) {
        notFound();
        return true;
      }
      fake.views.set(target, fake.normalize ? fake.normalize(data) : data);
      send(name ? 200 : 201, fake.bareWrites ? {} : entry(target));
      return true;
    },
  };
  return fake;
}

export interface Recorded {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/**
 * A local HTTP server that answers with `fake` (404 for anything else) and records every request; a
 * test that fakes more than views passes a `handle` of its own that falls back to the views'.
 */
export async function serveFakeSplunk(
  fake: Pick<FakeSplunkViews, 'handle'>,
): Promise<{ base: string; requests: Recorded[]; close: () => Promise<void> }> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      const send = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (!fake.handle(req.method!, new URL(req.url!, 'http://x'), body, send)) send(404, {});
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
