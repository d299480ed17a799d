/**
 * A tiny evaluator for the field-selection rules in mappings/cim/*.json: the add-on's search-time
 * `case(eventName=..., coalesce(...))` expressions, written as data so they can be read and diffed
 * against the add-on's props.conf without reading code.
 */

export interface SelectionRule {
  /** SPL `like` patterns: `%` matches any run of characters. */
  eventName?: string[];
  eventType?: string[];
  /** Path → value that must be equal (booleans also match their string form, as Splunk compares text). */
  when?: Record<string, string | number | boolean>;
  present?: string[];
  absent?: string[];
  /** Coalesced in order: `a.b[].c|transform`, or `=literal`. An empty list means "leave the field unset". */
  paths: string[];
}

type Value = string | string[];

const TRANSFORMS: Record<string, (s: string) => string | undefined> = {
  lastSlash: (s) => s.slice(s.lastIndexOf('/') + 1) || undefined,
  lastSegment: (s) => {
    const resource = s.slice(s.lastIndexOf(':') + 1);
    return resource.slice(resource.lastIndexOf('/') + 1) || undefined;
  },
  afterColon: (s) => (s.includes(':') ? s.slice(s.indexOf(':') + 1) || undefined : undefined),
  beforeColon: (s) => s.split(':')[0] || undefined,
  // "... is not authorized to perform: iam:CreateAccessKey on resource: user bob" → bob
  errorResource: (s) => /resource\s*:\s*(?:user\s*)?(.*)$/.exec(s)?.[1]?.trim() || undefined,
  // arn:aws:sts::1:assumed-role/Admin/session → assumed-role
  roleType: (s) => s.split(':').pop()?.split('/')[0] || undefined,
};

const likeCache = new Map<string, RegExp>();

export function like(value: string, pattern: string): boolean {
  if (!pattern.includes('%')) return value === pattern;
  let re = likeCache.get(pattern);
  if (!re) {
    const body = pattern
      .split('%')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*');
    re = new RegExp(`^${body}$`);
    likeCache.set(pattern, re);
  }
  return re.test(value);
}

/** Paths and specs come from the mapping tables, a few dozen in all: parse each once, not once per record. */
interface ParsedPath {
  steps: { key: string; spread: boolean }[];
  /** No `[]` step: at most one value, read without building intermediate lists. */
  plain: boolean;
}
const parsedPaths = new Map<string, ParsedPath>();
const parsedSpecs = new Map<string, [string, string | undefined]>();

function parsePath(path: string): ParsedPath {
  let parsed = parsedPaths.get(path);
  if (!parsed) {
    const steps = path.split('.').map((raw) => {
      const spread = raw.endsWith('[]');
      return { key: spread ? raw.slice(0, -2) : raw, spread };
    });
    parsed = { steps, plain: steps.every((s) => !s.spread) };
    parsedPaths.set(path, parsed);
  }
  return parsed;
}

function textOf(node: unknown): string | undefined {
  if (typeof node === 'string') return node === '' ? undefined : node;
  if (typeof node === 'number' || typeof node === 'boolean') return String(node);
  return undefined;
}

/**
 * The first text value at a dotted path, as `readPath(root, path)[0]`; for a path without `[]` (most of
 * them) without building a list on the way: this runs a few dozen times per record.
 */
export function readText(root: unknown, path: string): string | undefined {
  const parsed = parsePath(path);
  return parsed.plain ? readPlain(root, parsed) : readSpread(root, parsed)[0];
}

function readPlain(root: unknown, { steps }: ParsedPath): string | undefined {
  let node = root;
  for (const { key } of steps) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return textOf(node);
}

/** Reads a dotted path; `[]` after a key walks every item of that array. Returns text values only. */
export function readPath(root: unknown, path: string): string[] {
  const parsed = parsePath(path);
  if (!parsed.plain) return readSpread(root, parsed);
  const value = readPlain(root, parsed);
  return value === undefined ? [] : [value];
}

function readSpread(root: unknown, { steps }: ParsedPath): string[] {
  let nodes: unknown[] = [root];
  for (const { key, spread } of steps) {
    const next: unknown[] = [];
    for (const node of nodes) {
      if (typeof node !== 'object' || node === null) continue;
      const child = (node as Record<string, unknown>)[key];
      if (child === undefined || child === null) continue;
      if (spread && Array.isArray(child)) next.push(...child);
      else next.push(child);
    }
    nodes = next;
    if (nodes.length === 0) return [];
  }
  const out: string[] = [];
  for (const node of nodes) {
    const value = textOf(node);
    if (value !== undefined) out.push(value);
  }
  return out;
}

function transformOf(name: string): (s: string) => string | undefined {
  const fn = TRANSFORMS[name];
  if (!fn) throw new Error(`unknown transform ${name} in CIM mapping rule`);
  return fn;
}

function resolve(event: Record<string, unknown>, spec: string): Value | undefined {
  if (spec.startsWith('=')) return spec.slice(1);
  let parsed = parsedSpecs.get(spec);
  if (!parsed) {
    parsed = spec.split('|') as [string, string | undefined];
    parsedSpecs.set(spec, parsed);
  }
  const [path, transform] = parsed;
  const steps = parsePath(path);
  if (steps.plain) {
    // At most one value: no list to build, nothing to make unique.
    const value = readPlain(event, steps);
    if (value === undefined || !transform) return value;
    return transformOf(transform)(value);
  }
  let values = readSpread(event, steps);
  if (transform) {
    values = values.map(transformOf(transform)).filter((v): v is string => v !== undefined);
  }
  if (values.length === 0) return undefined;
  if (values.length === 1) return values[0];
  const unique = [...new Set(values)];
  return unique.length === 1 ? unique[0] : unique;
}

/** Everything but the eventName patterns, which `candidates` has already applied. */
function matches(rule: SelectionRule, event: Record<string, unknown>): boolean {
  if (rule.eventType) {
    const type = typeof event.eventType === 'string' ? event.eventType : '';
    if (!rule.eventType.some((p) => like(type, p))) return false;
  }
  if (rule.when) {
    for (const [path, expected] of Object.entries(rule.when)) {
      if (!readPath(event, path).includes(String(expected))) return false;
    }
  }
  if (rule.present?.some((p) => readText(event, p) === undefined)) return false;
  if (rule.absent?.some((p) => readText(event, p) !== undefined)) return false;
  return true;
}

/**
 * The rules of one list whose eventName patterns admit an eventName, cached per list: the patterns are
 * data and event names repeat, so the `like` tests run once per distinct name, not once per record.
 */
const candidateCache = new WeakMap<readonly SelectionRule[], Map<string, readonly SelectionRule[]>>();
const MAX_CACHED_NAMES = 10_000;

function candidates(rules: readonly SelectionRule[], eventName: string): readonly SelectionRule[] {
  let byName = candidateCache.get(rules);
  if (!byName) {
    byName = new Map();
    candidateCache.set(rules, byName);
  }
  let found = byName.get(eventName);
  if (!found) {
    found = rules.filter((rule) => !rule.eventName || rule.eventName.some((p) => like(eventName, p)));
    if (byName.size >= MAX_CACHED_NAMES) byName.clear();
    byName.set(eventName, found);
  }
  return found;
}

/** The first matching rule decides; within it the first path with a value wins (the add-on's coalesce). */
export function select(
  rules: readonly SelectionRule[],
  event: Record<string, unknown>,
  eventName: string,
): Value | undefined {
  for (const rule of candidates(rules, eventName)) {
    if (!matches(rule, event)) continue;
    for (const spec of rule.paths) {
      const value = resolve(event, spec);
      if (value !== undefined) return value;
    }
    return undefined;
  }
  return undefined;
}
