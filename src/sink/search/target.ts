import type { LogType } from '../../types.js';
import type { SearchTarget } from './config.js';
import { DATE_PLACEHOLDERS } from './index-name.js';

export const LOG_TYPES: readonly LogType[] = ['cloudtrail', 'vpcflow'];

/** Where documents of each log type go and how they are written; built once per sink. */
export interface TargetResolver {
  readonly op: 'create' | 'index';
  /** The bulk action line (with its newline) for one document of an account (see map/account.ts). */
  actionLine(logType: LogType, id: string, doc: Record<string, unknown>, account?: string): string;
  /** The index name a document goes to. */
  indexFor(logType: LogType, doc: Record<string, unknown>, account?: string): string;
}

export function dataStreamName(logType: LogType, namespace: string): string {
  return `logs-aws.${logType}-${namespace}`;
}

/** Index patterns a template must match so that every index this target writes gets our mappings. */
export function templatePatterns(target: SearchTarget, logType: LogType): string[] {
  if (target.mode === 'datastream') return [`logs-aws.${logType}-*`];
  const pattern = target.pattern
    .replaceAll('{logType}', logType)
    .replace(/\{[^}]*\}/g, '*')
    .replace(/\*+/g, '*');
  return [pattern];
}

export function createTargetResolver(target: SearchTarget, now: () => number = Date.now): TargetResolver {
  const op = target.mode === 'datastream' ? 'create' : target.op;
  // The action line differs only by index and id; its prefix is built once per index name.
  const prefixes = new Map<string, string>();
  const prefixFor = (index: string): string => {
    let prefix = prefixes.get(index);
    if (prefix === undefined) {
      prefix = `{"${op}":{"_index":${JSON.stringify(index)},"_id":`;
      if (prefixes.size > 10_000) prefixes.clear();
      prefixes.set(index, prefix);
    }
    return prefix;
  };

  let indexFor: TargetResolver['indexFor'];
  if (target.mode === 'datastream') {
    const names = Object.fromEntries(LOG_TYPES.map((t) => [t, dataStreamName(t, target.namespace)]));
    if (!target.accountNamespaces) indexFor = (logType) => names[logType]!;
    else {
      // The mapping wrote each document's namespace (its account's); its data stream must match it.
      indexFor = (logType, doc) => {
        const namespace = (doc.data_stream as { namespace?: unknown } | undefined)?.namespace;
        return typeof namespace === 'string' && namespace !== target.namespace
          ? dataStreamName(logType, namespace)
          : names[logType]!;
      };
    }
  } else {
    const perType = Object.fromEntries(LOG_TYPES.map((t) => [t, target.pattern.replaceAll('{logType}', t)]));
    const dated = target.pattern.replace(DATE_PLACEHOLDERS, '') !== target.pattern;
    const perAccount = target.pattern.includes('{account}');
    indexFor = (logType, doc, account) => {
      const base = perAccount
        ? perType[logType]!.replaceAll('{account}', account ?? 'unknown')
        : perType[logType]!;
      if (!dated) return base;
      const day = utcDay(doc['@timestamp']) ?? utcDay(now())!;
      return base.replace(DATE_PLACEHOLDERS, (_, token: string) =>
        token === 'yyyy'
          ? day.yyyy
          : token === 'MM'
            ? day.MM
            : token === 'dd'
              ? day.dd
              : `${day.yyyy}${token[4]}${day.MM}${token[4]}${day.dd}`,
      );
    };
  }

  return {
    op,
    indexFor,
    actionLine: (logType, id, doc, account) =>
      `${prefixFor(indexFor(logType, doc, account))}${JSON.stringify(id)}}}\n`,
  };
}

interface UtcDay {
  yyyy: string;
  MM: string;
  dd: string;
}

/** The UTC calendar day of an ECS @timestamp (ISO string or epoch milliseconds); undefined if unreadable. */
export function utcDay(value: unknown): UtcDay | undefined {
  if (typeof value === 'string') {
    // The common case, an ISO UTC timestamp, needs no Date at all.
    if (/^\d{4}-\d{2}-\d{2}T[^+]*Z$/.test(value) || /^\d{4}-\d{2}-\d{2}$/.test(value)) {
      return { yyyy: value.slice(0, 4), MM: value.slice(5, 7), dd: value.slice(8, 10) };
    }
    return fromEpoch(Date.parse(value));
  }
  if (typeof value === 'number') return fromEpoch(value);
  return undefined;
}

function fromEpoch(ms: number): UtcDay | undefined {
  if (!Number.isFinite(ms)) return undefined;
  const iso = new Date(ms).toISOString();
  return { yyyy: iso.slice(0, 4), MM: iso.slice(5, 7), dd: iso.slice(8, 10) };
}
