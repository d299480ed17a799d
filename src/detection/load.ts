import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { type Document, isMap, isNode, LineCounter, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { RuleError } from './errors.js';
import type { CorrelationRule, DetectionRule, Level, LogService, Rule } from './model.js';
import { buildDetection, DetectionSyntaxError } from './search.js';

/**
 * Reads every Sigma rule under a directory (`*.yml`/`*.yaml`, test-event files `*.tests.yml` excluded).
 * A file may hold several YAML documents: detections and the correlations built on them.
 */
const uuid = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'must be a UUID');
const level = z.enum(['informational', 'low', 'medium', 'high', 'critical']);
const tag = z
  .string()
  .regex(/^[a-z0-9_-]+\.[a-z0-9._-]+$/, 'tags look like namespace.value (e.g. attack.t1078)');
const meta = {
  title: z.string().min(1).max(256),
  id: uuid,
  name: z.string().min(2).optional(),
  status: z.enum(['stable', 'test', 'experimental', 'deprecated', 'unsupported']).optional(),
  description: z.string().min(1),
  author: z.string().min(1),
  references: z.array(z.string()).default([]),
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  modified: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/)
    .optional(),
  level,
  tags: z.array(tag).default([]),
  falsepositives: z.union([z.string(), z.array(z.string())]).default([]),
  license: z.string().optional(),
  related: z.array(z.object({ id: z.string(), type: z.string() })).optional(),
  taxonomy: z.string().optional(),
  fields: z.array(z.string()).optional(),
};
const detectionDocSchema = z.strictObject({
  ...meta,
  logsource: z.strictObject({
    product: z.literal('aws'),
    service: z.enum(['cloudtrail', 'vpcflow']),
    category: z.string().optional(),
    definition: z.string().optional(),
  }),
  detection: z.record(z.string(), z.unknown()),
});
const correlationDocSchema = z.strictObject({
  ...meta,
  generate: z.boolean().default(false),
  correlation: z.strictObject({
    type: z.enum(['event_count', 'value_count', 'value_sum']),
    rules: z.array(z.string()).min(1),
    'group-by': z.array(z.string()).default([]),
    timespan: z.string().regex(/^\d+[smhd]$/, 'timespan is a number and one of s, m, h, d (e.g. 5m)'),
    condition: z
      .strictObject({
        gt: z.number().int().optional(),
        gte: z.number().int().optional(),
        field: z.string().optional(),
      })
      .refine((c) => (c.gt === undefined) !== (c.gte === undefined), {
        message: 'give exactly one of gt or gte (an in-stream window fires when a count rises past it)',
      }),
  }),
});

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export async function loadRules(dir: string): Promise<Rule[]> {
  const files = (await listRuleFiles(dir)).sort();
  const sources = await Promise.all(
    files.map(async (file) => ({ file: relative(dir, file) || file, text: await readFile(file, 'utf8') })),
  );
  return parseRules(sources);
}

export async function listRuleFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    throw new RuleError(`cannot read the rules directory: ${err.code ?? err.message}`, { file: dir }, err);
  });
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listRuleFiles(path)));
    else if (/\.ya?ml$/.test(entry.name) && !/\.tests\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out;
}

interface PendingCorrelation {
  doc: z.infer<typeof correlationDocSchema>;
  file: string;
  line: number;
}

/** Parses rule texts (file name for messages, YAML text); resolves correlations across all of them. */
export function parseRules(sources: { file: string; text: string }[]): Rule[] {
  const detections: DetectionRule[] = [];
  const pending: PendingCorrelation[] = [];
  const ids = new Map<string, string>();

  for (const { file, text } of sources) {
    const lines = new LineCounter();
    const docs = parseAllDocuments(text, { lineCounter: lines });
    if (!Array.isArray(docs)) continue; // an empty file
    for (const doc of docs) {
      const lineAt = (offset: number | undefined) => (offset === undefined ? 1 : lines.linePos(offset).line);
      const docLine = lineAt(doc.contents?.range?.[0]);
      const firstError = doc.errors[0];
      if (firstError) {
        throw new RuleError(`YAML: ${firstError.message.split('\n')[0]}`, {
          file,
          line: lineAt(firstError.pos[0]),
        });
      }
      if (!isMap(doc.contents))
        throw new RuleError('a rule document must be a YAML map', { file, line: docLine });
      const raw = doc.toJS() as Record<string, unknown>;
      const where = (path: (string | number)[]) => {
        const offset = nodeAt(doc, path);
        return { file, line: offset === undefined ? docLine : lineAt(offset) };
      };
      const isCorrelation = 'correlation' in raw;
      const parsed = (isCorrelation ? correlationDocSchema : detectionDocSchema).safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0] as z.core.$ZodIssue;
        const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
        throw new RuleError(`${path.join('.') || 'rule'}: ${issue.message}`, {
          ...where(path),
          field: path.join('.'),
        });
      }
      const id = parsed.data.id;
      const seen = ids.get(id);
      if (seen) throw new RuleError(`duplicate rule id ${id} (also in ${seen})`, where(['id']));
      ids.set(id, file);
      if (isCorrelation) {
        pending.push({ doc: parsed.data as z.infer<typeof correlationDocSchema>, file, line: docLine });
        continue;
      }
      const data = parsed.data as z.infer<typeof detectionDocSchema>;
      let search: DetectionRule['search'];
      try {
        search = buildDetection(data.detection);
      } catch (err) {
        if (err instanceof DetectionSyntaxError) {
          throw new RuleError(`detection: ${err.message}`, {
            ...where(['detection', ...err.path]),
            field: err.path.join('.'),
          });
        }
        throw err;
      }
      detections.push({
        ...metaOf(data, file, docLine),
        kind: 'detection',
        service: data.logsource.service,
        search,
        generate: true,
      });
    }
  }

  const byRef = new Map<string, DetectionRule>();
  for (const d of detections) {
    byRef.set(d.id, d);
    if (d.name) byRef.set(d.name, d);
  }
  const correlations: CorrelationRule[] = pending.map(({ doc, file, line }) => {
    const c = doc.correlation;
    const rules = c.rules.map((ref) => {
      const rule = byRef.get(ref);
      if (!rule)
        throw new RuleError(`correlation refers to unknown rule '${ref}'`, {
          file,
          line,
          field: 'correlation.rules',
        });
      if (!doc.generate) rule.generate = false;
      return rule;
    });
    const services = new Set(rules.map((r) => r.service));
    if (services.size !== 1)
      throw new RuleError('a correlation must join rules of one log service', { file, line });
    if (c.type !== 'event_count' && !c.condition.field) {
      throw new RuleError(`a ${c.type} correlation needs condition.field`, {
        file,
        line,
        field: 'correlation.condition',
      });
    }
    const span = c.timespan.match(/^(\d+)([smhd])$/) as RegExpMatchArray;
    return {
      ...metaOf(doc, file, line),
      kind: 'correlation',
      service: rules[0]?.service as LogService,
      type: c.type,
      rules,
      groupBy: c['group-by'],
      timespan: c.timespan,
      timespanMs: Number(span[1]) * UNIT_MS[span[2] as keyof typeof UNIT_MS],
      condition:
        c.condition.gt !== undefined
          ? { op: 'gt', value: c.condition.gt, field: c.condition.field }
          : { op: 'gte', value: c.condition.gte as number, field: c.condition.field },
    };
  });
  return [...detections, ...correlations];
}

function metaOf(
  data: z.infer<typeof detectionDocSchema> | z.infer<typeof correlationDocSchema>,
  file: string,
  line: number,
) {
  return {
    id: data.id,
    title: data.title,
    name: data.name,
    status: data.status,
    description: data.description,
    author: data.author,
    references: data.references,
    level: data.level as Level,
    tags: data.tags,
    falsepositives: typeof data.falsepositives === 'string' ? [data.falsepositives] : data.falsepositives,
    file,
    line,
  };
}

/** Start offset of the deepest node that exists along `path`, for pointing at a line. */
function nodeAt(doc: Document, path: (string | number)[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return undefined;
}
