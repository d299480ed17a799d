import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { DashboardSpecError } from './errors.js';

/**
 * The one source both SIEMs' dashboards are generated from: `dashboards/src/datasets.yml` says where
 * each dataset lives and how its ECS fields are spelt in SPL; every other `dashboards/src/*.yml`
 * describes one dashboard as panels over ECS field names.
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const filterClauseSchema = z.union([
  z.strictObject({ field: z.string().min(1), is: z.union([scalar, z.array(scalar).min(1)]) }),
  z.strictObject({ field: z.string().min(1), not: z.union([scalar, z.array(scalar).min(1)]) }),
  z.strictObject({ field: z.string().min(1), exists: z.boolean() }),
]);
export type FilterClause = z.infer<typeof filterClauseSchema>;

export const metricSchema = z.union([
  z.strictObject({ op: z.literal('count') }),
  z.strictObject({ op: z.enum(['sum', 'max', 'avg', 'cardinality']), field: z.string().min(1) }),
]);
export type Metric = z.infer<typeof metricSchema>;

export const panelSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9-]+$/),
    title: z.string().min(1),
    kind: z.enum(['metric', 'line', 'bar', 'pie', 'table', 'map']),
    /** Buckets over @timestamp on the x axis (line, bar). */
    time: z.boolean().default(false),
    /** Terms split(s): the first is the x axis / slice / first column, the rest further columns. */
    split: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .transform((s) => (s === undefined ? [] : Array.isArray(s) ? s : [s])),
    size: z.number().int().positive().max(500).default(10),
    metric: metricSchema.default({ op: 'count' }),
    filter: z.array(filterClauseSchema).default([]),
    /** geo_point field (map panels). */
    geo: z.string().min(1).optional(),
  })
  .superRefine((p, ctx) => {
    if (p.kind === 'map' && !p.geo) ctx.addIssue({ code: 'custom', message: 'a map panel needs `geo`' });
    if (p.kind === 'metric' && p.split.length > 0)
      ctx.addIssue({ code: 'custom', message: 'a metric panel has no `split`' });
    if ((p.kind === 'pie' || p.kind === 'table') && p.split.length === 0)
      ctx.addIssue({ code: 'custom', message: `a ${p.kind} panel needs \`split\`` });
    if (p.kind === 'bar' && !p.time && p.split.length === 0)
      ctx.addIssue({ code: 'custom', message: 'a bar panel needs `time` or `split`' });
    if (p.kind === 'line' && !p.time) ctx.addIssue({ code: 'custom', message: 'a line panel needs `time`' });
  });
export type Panel = z.infer<typeof panelSchema>;

export const dashboardSpecSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string().min(1),
  description: z.string().default(''),
  dataset: z.string().min(1),
  panels: z.array(panelSchema).min(1),
});
export type DashboardSpec = z.infer<typeof dashboardSpecSchema>;

const splFieldSchema = z.union([
  z
    .string()
    .min(1)
    .transform((spl) => ({ spl, prep: undefined, values: undefined })),
  z.strictObject({
    spl: z.string().min(1),
    /** A search command that makes the field (e.g. iplocation); placed before the panel's stats. */
    prep: z.string().min(1).optional(),
    /** ECS value → value as the Splunk data spells it. */
    values: z.record(z.string(), z.string()).optional(),
  }),
]);
export type SplField = z.infer<typeof splFieldSchema>;

export const datasetSchema = z.strictObject({
  title: z.string().min(1),
  kibana: z.strictObject({ dataView: z.string().min(1), indexPattern: z.string().min(1) }),
  splunk: z.strictObject({ search: z.string().min(1) }),
  fields: z.record(z.string(), splFieldSchema),
});
export type Dataset = z.infer<typeof datasetSchema>;

export const datasetsSchema = z.record(z.string(), datasetSchema);
export type Datasets = z.infer<typeof datasetsSchema>;

export interface DashboardSources {
  datasets: Datasets;
  dashboards: DashboardSpec[];
}

/** Reads and validates every source file under `dir`; errors name the file and the key. */
export function loadDashboardSources(dir: string): DashboardSources {
  const datasets = parseFile(path.join(dir, 'datasets.yml'), datasetsSchema);
  const dashboards = readdirSync(dir)
    .filter((f) => f.endsWith('.yml') && f !== 'datasets.yml')
    .sort()
    .map((f) => parseFile(path.join(dir, f), dashboardSpecSchema));
  const seen = new Set<string>();
  for (const d of dashboards) {
    if (seen.has(d.id)) throw new DashboardSpecError(`duplicate dashboard id ${d.id}`, { dashboard: d.id });
    seen.add(d.id);
    const dataset = datasets[d.dataset];
    if (!dataset) {
      throw new DashboardSpecError(`dashboard ${d.id}: unknown dataset ${d.dataset}`, { dashboard: d.id });
    }
    for (const p of d.panels) {
      for (const field of panelFields(p)) {
        if (!dataset.fields[field]) {
          throw new DashboardSpecError(
            `dashboard ${d.id} panel ${p.id}: field ${field} has no Splunk spelling in datasets.yml (${d.dataset})`,
            { dashboard: d.id, panel: p.id, field },
          );
        }
      }
    }
  }
  return { datasets, dashboards };
}

/** Every field a panel reads: filters, splits, metric and geo. */
export function panelFields(panel: Panel): string[] {
  const fields = [...panel.filter.map((c) => c.field), ...panel.split];
  if (panel.metric.op !== 'count') fields.push(panel.metric.field);
  if (panel.geo) fields.push(panel.geo);
  return [...new Set(fields)];
}

function parseFile<T extends z.ZodType>(file: string, schema: T): z.infer<T> {
  const result = schema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new DashboardSpecError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
      file,
      key: issue.path.join('.'),
    });
  }
  return result.data;
}
