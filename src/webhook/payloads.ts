import { z } from 'zod';

/** An alert from any SIEM, reduced to what the policy needs. */
export interface Alert {
  route: 'splunk' | 'kibana' | 'generic';
  /** Stable per alert, prefixed with the route: the idempotency key is built from it. */
  alertId: string;
  ruleName: string;
  ruleId?: string | undefined;
  tags: string[];
  /** Result rows / alert documents / hits; target fields are looked up in each. */
  rows: Record<string, unknown>[];
  /** Splunk: the search id, for fetching every result row. */
  sid?: string | undefined;
}

const id = z.string().trim().min(1).max(256);
const name = z.string().trim().min(1).max(1024);
const row = z.record(z.string(), z.unknown());
const rows = z.array(row).max(1000);

/**
 * Splunk's built-in webhook alert action: a fixed body; `result` is the first result row only.
 * Sids are word characters, dots, colons and hyphens; anything else could escape the REST path.
 */
export const splunkPayloadSchema = z.object({
  sid: z.string().regex(/^[\w.:@-]{1,256}$/, 'sid must be a Splunk search id'),
  search_name: name,
  app: z.string().max(256).optional(),
  owner: z.string().max(256).optional(),
  results_link: z.string().max(4096).optional(),
  result: row.optional(),
});

/**
 * What the documented Kibana webhook connector template renders. Kibana renders `rule.tags` as a
 * comma-separated string inside quotes, and arrays of documents (`context.alerts`, `context.hits`) as JSON
 * with triple braces; both shapes are accepted.
 */
const tags = z
  .union([z.array(z.string().max(256)).max(100), z.string().max(8192)])
  .optional()
  .transform((value) =>
    (typeof value === 'string' ? value.split(',') : (value ?? [])).map((t) => t.trim()).filter(Boolean),
  );

const docs = z
  .union([rows, z.string().max(1_000_000)])
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return [];
    if (typeof value !== 'string') return value;
    if (!value.trim()) return [];
    try {
      return rows.parse(JSON.parse(value));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an array of objects or a JSON string of one' });
      return z.NEVER;
    }
  });

export const kibanaPayloadSchema = z.object({
  rule: z.object({ id: id.optional(), name, tags }),
  alert: z
    .object({ id: id.optional(), uuid: id.optional() })
    .refine((a) => a.id !== undefined || a.uuid !== undefined, 'alert.id or alert.uuid is required'),
  date: z.string().max(64).optional(),
  alerts: docs,
  hits: docs,
});

/** Our own format for custom senders (and `detect` output forwarded by a script), signed with HMAC. */
export const genericPayloadSchema = z.object({
  id,
  rule: z.object({ name, id: id.optional(), tags: z.array(z.string().max(256)).max(100).default([]) }),
  events: rows.min(1),
});

export type PayloadRoute = Alert['route'];

/** Validates a body for its route; the error names each failing field. */
export function parseAlert(route: PayloadRoute, body: unknown): { alert: Alert } | { error: string } {
  switch (route) {
    case 'splunk': {
      const r = splunkPayloadSchema.safeParse(body);
      if (!r.success) return { error: describe(r.error) };
      return {
        alert: {
          route,
          alertId: `splunk:${r.data.sid}`,
          ruleName: r.data.search_name,
          tags: [],
          rows: r.data.result ? [r.data.result] : [],
          sid: r.data.sid,
        },
      };
    }
    case 'kibana': {
      const r = kibanaPayloadSchema.safeParse(body);
      if (!r.success) return { error: describe(r.error) };
      const d = r.data;
      // ES query rules send hits with the document under _source; security rules send the document.
      const hitRows = d.hits.map((h) => (isRecord(h._source) ? h._source : h));
      return {
        alert: {
          route,
          alertId: `kibana:${d.rule.id ?? d.rule.name}:${d.alert.uuid ?? d.alert.id}`,
          ruleName: d.rule.name,
          ruleId: d.rule.id,
          tags: d.rule.tags,
          rows: [...d.alerts, ...hitRows],
        },
      };
    }
    case 'generic': {
      const r = genericPayloadSchema.safeParse(body);
      if (!r.success) return { error: describe(r.error) };
      return {
        alert: {
          route,
          alertId: `generic:${r.data.id}`,
          ruleName: r.data.rule.name,
          ruleId: r.data.rule.id,
          tags: r.data.rule.tags,
          rows: r.data.events,
        },
      };
    }
  }
}

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`)
    .join('; ');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
