import type { ActionName } from '../respond/config.js';
import type { PolicyEntry } from './config.js';
import type { Alert } from './payloads.js';

export interface PlannedRequest {
  action: ActionName;
  target: string;
  policy: string;
  ttlSeconds?: number | undefined;
}

/**
 * Which actions an alert asks for: every policy entry whose rule names or tags match, applied to every
 * value found at its target paths in every row, without duplicates. Beyond `maxTargets` the rest are
 * returned as `overflow` so the answer can say what was not done.
 */
export function requestsFor(
  alert: Alert,
  policy: readonly PolicyEntry[],
  maxTargets: number,
): { requests: PlannedRequest[]; overflow: PlannedRequest[]; matched: string[] } {
  const ruleName = alert.ruleName.toLowerCase();
  const tags = new Set(alert.tags.map((t) => t.toLowerCase()));
  const seen = new Set<string>();
  const all: PlannedRequest[] = [];
  const matched: string[] = [];
  policy.forEach((entry, index) => {
    const byName = entry.match.rules.some((r) => r.toLowerCase() === ruleName);
    const byTag = entry.match.tags.some((t) => tags.has(t.toLowerCase()));
    if (!byName && !byTag) return;
    const label = entry.name ?? `policy[${index}]`;
    matched.push(label);
    for (const row of alert.rows) {
      for (const path of entry.targets) {
        for (const value of valuesAt(row, path)) {
          const key = `${entry.action}\u0000${value}`;
          if (seen.has(key)) continue;
          seen.add(key);
          all.push({ action: entry.action, target: value, policy: label, ttlSeconds: entry.ttlSeconds });
        }
      }
    }
  });
  return { requests: all.slice(0, maxTargets), overflow: all.slice(maxTargets), matched };
}

/**
 * Values at a dotted path. Documents mix nested objects (`{source: {ip}}`) and flattened keys
 * (`"source.ip"`, as Splunk results and Kibana alert fields have), so each level tries the longest key
 * that exists first. Strings and numbers count; arrays are flattened one level.
 */
export function valuesAt(doc: unknown, path: string): string[] {
  const out: string[] = [];
  collect(doc, path.split('.'), out, 0);
  return out;
}

function collect(node: unknown, parts: string[], out: string[], depth: number): void {
  if (depth > 16 || out.length >= 100) return;
  if (parts.length === 0) {
    if (Array.isArray(node)) {
      for (const item of node) collect(item, [], out, depth + 1);
    } else if (typeof node === 'string') {
      const value = node.trim();
      if (value && value.length <= 256) out.push(value);
    } else if (typeof node === 'number' && Number.isFinite(node)) {
      out.push(String(node));
    }
    return;
  }
  if (Array.isArray(node)) {
    for (const item of node) collect(item, parts, out, depth + 1);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const record = node as Record<string, unknown>;
  for (let take = parts.length; take >= 1; take--) {
    const key = parts.slice(0, take).join('.');
    if (Object.hasOwn(record, key)) collect(record[key], parts.slice(take), out, depth + 1);
  }
}
