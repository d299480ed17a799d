import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Stands in for Kibana's Detection Engine API and Splunk's saved-searches, eventtypes (saved/eventtypes)
 * and tags.conf (configs/conf-tags) REST endpoints (no real Kibana or Splunk can run here). It checks what
 * their documentation requires — method, path, headers, body shape — answers the way they answer, and
 * keeps state so that idempotence can be observed.
 */
export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
}

/** A Splunk knowledge object other than a saved search: its stanza's keys and how it is shared. */
export interface KnowledgeEntry {
  content: Record<string, string>;
  /** `app` when created under servicesNS/nobody/<app>, as Splunk does, until its ACL says otherwise. */
  sharing: string;
}

export interface FakeSiem {
  url: string;
  kibanaRules: Map<string, Record<string, unknown>>;
  savedSearches: Map<string, Record<string, string>>;
  eventtypes: Map<string, KnowledgeEntry>;
  /** tags.conf stanzas by name (`eventtype=<name>`): tag → enabled/disabled. */
  tagStanzas: Map<string, KnowledgeEntry>;
  calls: RecordedCall[];
  /** Requests the fake refused, with the reason; a correct client leaves this empty. */
  violations: string[];
  close(): Promise<void>;
}

export async function startFakeSiem(credentials: {
  kibanaApiKey: string;
  splunkToken: string;
}): Promise<FakeSiem> {
  const kibanaRules = new Map<string, Record<string, unknown>>();
  const savedSearches = new Map<string, Record<string, string>>();
  const eventtypes = new Map<string, KnowledgeEntry>();
  const tagStanzas = new Map<string, KnowledgeEntry>();
  const calls: RecordedCall[] = [];
  const violations: string[] = [];

  const refuse = (res: ServerResponse, status: number, why: string) => {
    violations.push(why);
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(JSON.stringify({ statusCode: status, message: why }));
  };
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    calls.push({ method: req.method ?? '', path: url.pathname, query: Object.fromEntries(url.searchParams) });

    if (url.pathname.startsWith('/api/detection_engine/')) {
      if (req.headers.authorization !== `ApiKey ${credentials.kibanaApiKey}`)
        return json(res, 401, { message: 'Unauthorized' });
      if (req.headers['kbn-xsrf'] === undefined)
        return refuse(res, 400, 'Kibana: request lacks the kbn-xsrf header');
      if (req.method === 'GET' && url.pathname === '/api/detection_engine/rules') {
        const id = url.searchParams.get('rule_id');
        const rule = id ? kibanaRules.get(id) : undefined;
        if (!rule) return json(res, 404, { status_code: 404, message: `rule_id: "${id}" not found` });
        return json(res, 200, { ...rule, id: `so-${id}`, created_by: 'elastic', immutable: false });
      }
      if (req.method === 'POST' && url.pathname === '/api/detection_engine/rules/_import') {
        if (url.searchParams.get('overwrite') !== 'true')
          return refuse(res, 400, 'Kibana: import without overwrite=true would fail on existing rules');
        const type = req.headers['content-type'] ?? '';
        const boundary = /boundary=(.+)$/.exec(type)?.[1];
        if (!type.startsWith('multipart/form-data') || !boundary)
          return refuse(res, 415, 'Kibana: _import takes multipart/form-data');
        const file = multipartFile(body.toString('utf8'), boundary, 'file');
        if (!file?.filename?.endsWith('.ndjson'))
          return refuse(res, 400, 'Kibana: _import needs a file part named "file" with an .ndjson name');
        const errors: unknown[] = [];
        let success = 0;
        for (const line of file.content.split('\n').filter((l) => l.trim() !== '')) {
          const rule = JSON.parse(line) as Record<string, unknown>;
          const missing = ['rule_id', 'name', 'description', 'risk_score', 'severity', 'type'].filter(
            (k) => !(k in rule),
          );
          if (missing.length)
            errors.push({
              rule_id: rule.rule_id,
              error: { status_code: 400, message: `missing ${missing.join(', ')}` },
            });
          else {
            const previous = kibanaRules.get(rule.rule_id as string);
            kibanaRules.set(rule.rule_id as string, {
              ...rule,
              version: previous ? (previous.version as number) + 1 : 1,
            });
            success++;
          }
        }
        return json(res, 200, {
          success: errors.length === 0,
          success_count: success,
          errors,
          rules_count: success + errors.length,
        });
      }
      return refuse(res, 404, `Kibana: no route ${req.method} ${url.pathname}`);
    }

    const splunk = /^\/servicesNS\/nobody\/([^/]+)\/saved\/searches(?:\/([^/]+))?$/.exec(url.pathname);
    if (splunk) {
      if (req.headers.authorization !== `Bearer ${credentials.splunkToken}`)
        return json(res, 401, { messages: [{ type: 'ERROR', text: 'Unauthorized' }] });
      if (url.searchParams.get('output_mode') !== 'json')
        return refuse(res, 400, 'Splunk: client did not ask for output_mode=json');
      const name = splunk[2] === undefined ? undefined : decodeURIComponent(splunk[2]);
      if (req.method === 'GET' && name) {
        const fields = savedSearches.get(name);
        if (!fields)
          return json(res, 404, { messages: [{ type: 'ERROR', text: `Could not find object id=${name}` }] });
        return json(res, 200, {
          entry: [
            {
              name,
              content: {
                ...fields,
                'alert.severity': Number(fields['alert.severity']),
                is_scheduled: fields.is_scheduled === '1',
              },
            },
          ],
        });
      }
      if (req.method === 'POST') {
        if (req.headers['content-type'] !== 'application/x-www-form-urlencoded')
          return refuse(res, 415, 'Splunk: REST writes are form-encoded');
        const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
        for (const key of [
          'search',
          'cron_schedule',
          'is_scheduled',
          'actions',
          'action.webhook.param.url',
        ]) {
          if (!name && !(key in form)) return refuse(res, 400, `Splunk: create without ${key}`);
        }
        if (!name) {
          const created = form.name;
          if (!created) return refuse(res, 400, 'Splunk: create without name');
          if (savedSearches.has(created))
            return json(res, 409, { messages: [{ type: 'ERROR', text: 'already exists' }] });
          const { name: _n, ...fields } = form;
          savedSearches.set(created, fields);
          return json(res, 201, { entry: [{ name: created }] });
        }
        if ('name' in form) return refuse(res, 400, 'Splunk: an update must not send name');
        const existing = savedSearches.get(name);
        if (!existing) return json(res, 404, { messages: [{ type: 'ERROR', text: 'not found' }] });
        savedSearches.set(name, { ...existing, ...form });
        return json(res, 200, { entry: [{ name }] });
      }
    }
    const knowledge =
      /^\/servicesNS\/nobody\/([^/]+)\/(saved\/eventtypes|configs\/conf-tags)(?:\/([^/]+))?(\/acl)?$/.exec(
        url.pathname,
      );
    if (knowledge) {
      if (req.headers.authorization !== `Bearer ${credentials.splunkToken}`)
        return json(res, 401, { messages: [{ type: 'ERROR', text: 'Unauthorized' }] });
      if (url.searchParams.get('output_mode') !== 'json')
        return refuse(res, 400, 'Splunk: client did not ask for output_mode=json');
      const [, app, collection, encoded, acl] = knowledge;
      const store = collection === 'saved/eventtypes' ? eventtypes : tagStanzas;
      const name = encoded === undefined ? undefined : decodeURIComponent(encoded);
      const notFound = () =>
        json(res, 404, { messages: [{ type: 'ERROR', text: `Could not find object id=${name}` }] });
      const entry = (n: string, e: KnowledgeEntry) => ({
        entry: [
          {
            name: n,
            acl: { app, owner: 'nobody', sharing: e.sharing },
            // Splunk answers with the keys it adds itself beside the stanza's.
            content:
              store === eventtypes
                ? { priority: 1, color: '', tags: [], ...e.content, disabled: e.content.disabled === '1' }
                : { ...e.content, 'eai:appName': app, disabled: false },
          },
        ],
      });
      if (req.method === 'GET' && name && !acl) {
        const e = store.get(name);
        return e ? json(res, 200, entry(name, e)) : notFound();
      }
      if (req.method !== 'POST') return refuse(res, 405, `Splunk: no route ${req.method} ${url.pathname}`);
      if (req.headers['content-type'] !== 'application/x-www-form-urlencoded')
        return refuse(res, 415, 'Splunk: REST writes are form-encoded');
      const form = Object.fromEntries(new URLSearchParams(body.toString('utf8')));
      if (acl) {
        const e = name === undefined ? undefined : store.get(name);
        if (!e) return notFound();
        if (!form.owner || !form.sharing)
          return refuse(res, 400, 'Splunk: an ACL write needs owner and sharing');
        if (!['user', 'app', 'global'].includes(form.sharing))
          return refuse(res, 400, `Splunk: sharing ${form.sharing} is not user, app or global`);
        e.sharing = form.sharing;
        return json(res, 200, entry(name!, e));
      }
      if (!name) {
        const { name: created, ...content } = form;
        if (!created) return refuse(res, 400, 'Splunk: create without name');
        if (store === eventtypes && !content.search)
          return refuse(res, 400, 'Splunk: eventtype without search');
        if (store === tagStanzas && !/^[^=]+=.+$/.test(created))
          return refuse(res, 400, `Splunk: tags.conf stanza ${created} is not <field>=<value>`);
        if (store.has(created))
          return json(res, 409, { messages: [{ type: 'ERROR', text: 'already exists' }] });
        const e = { content, sharing: 'app' };
        store.set(created, e);
        return json(res, 201, entry(created, e));
      }
      if ('name' in form) return refuse(res, 400, 'Splunk: an update must not send name');
      const e = store.get(name);
      if (!e) return notFound();
      e.content = { ...e.content, ...form };
      return json(res, 200, entry(name, e));
    }
    return refuse(res, 404, `no route ${req.method} ${url.pathname}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    kibanaRules,
    savedSearches,
    eventtypes,
    tagStanzas,
    calls,
    violations,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function multipartFile(
  body: string,
  boundary: string,
  field: string,
): { filename?: string; content: string } | undefined {
  for (const part of body.split(`--${boundary}`)) {
    const [head = '', ...rest] = part.split('\r\n\r\n');
    if (!new RegExp(`name="${field}"`).test(head)) continue;
    const filename = /filename="([^"]*)"/.exec(head)?.[1];
    return { filename, content: rest.join('\r\n\r\n').replace(/\r\n$/, '') };
  }
  return undefined;
}
