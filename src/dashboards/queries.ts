import { splunkIndexTerm } from '../splunk-index.js';
import type { DashboardSpec, Dataset, FilterClause, Panel, SplField } from './spec.js';

/**
 * One filter language, three renderings: KQL for Kibana's saved searches, query DSL + aggregations
 * (what Kibana sends for the panel, and what the tests run against OpenSearch), and SPL.
 */

type Scalar = string | number | boolean;

const list = (v: Scalar | Scalar[]): Scalar[] => (Array.isArray(v) ? v : [v]);
const kqlValue = (v: Scalar): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

export function toKql(filter: readonly FilterClause[]): string {
  return filter
    .map((c) => {
      if ('exists' in c) return c.exists ? `${c.field}: *` : `not ${c.field}: *`;
      const values = 'is' in c ? list(c.is) : list(c.not);
      const body = values.length === 1 ? kqlValue(values[0]!) : `(${values.map(kqlValue).join(' or ')})`;
      return 'is' in c ? `${c.field}: ${body}` : `not ${c.field}: ${body}`;
    })
    .join(' and ');
}

export function toDslQuery(filter: readonly FilterClause[]): Record<string, unknown> {
  const must: unknown[] = [];
  const mustNot: unknown[] = [];
  for (const c of filter) {
    if ('exists' in c) {
      (c.exists ? must : mustNot).push({ exists: { field: c.field } });
      continue;
    }
    // One term per value: a term query on an ip field accepts CIDR notation.
    const terms = ('is' in c ? list(c.is) : list(c.not)).map((v) => ({ term: { [c.field]: v } }));
    const clause = terms.length === 1 ? terms[0] : { bool: { should: terms, minimum_should_match: 1 } };
    ('is' in c ? must : mustNot).push(clause);
  }
  return { bool: { filter: must, must_not: mustNot } };
}

const METRIC_AGG = 'm';

function metricAgg(panel: Panel): Record<string, unknown> | undefined {
  const m = panel.metric;
  return m.op === 'count' ? undefined : { [METRIC_AGG]: { [m.op]: { field: m.field } } };
}

/**
 * The search a Kibana panel runs, as index + body. Nesting follows the visualisation: date histogram
 * outermost, then each split as terms ordered by the metric, with the metric innermost.
 */
export function panelSearchRequest(
  panel: Panel,
  dataset: Dataset,
): { index: string; body: Record<string, unknown> } {
  const metric = metricAgg(panel);
  let aggs: Record<string, unknown> | undefined = metric;
  const order = metric ? { [METRIC_AGG]: 'desc' } : { _count: 'desc' };
  // Like Kibana, every terms level carries the metric, so each level can be ordered by it.
  for (let i = panel.split.length - 1; i >= 0; i--) {
    aggs = {
      [`split${i}`]: {
        terms: { field: panel.split[i], size: panel.size, order },
        aggs: { ...metric, ...aggs },
      },
    };
  }
  if (panel.time) {
    aggs = {
      time: {
        date_histogram: { field: '@timestamp', fixed_interval: '1h', min_doc_count: 1 },
        ...(aggs && { aggs }),
      },
    };
  }
  if (panel.kind === 'map') {
    aggs = { grid: { geotile_grid: { field: panel.geo, precision: 3 }, ...(aggs && { aggs }) } };
  }
  return {
    index: dataset.kibana.indexPattern,
    body: { size: 0, track_total_hits: true, query: toDslQuery(panel.filter), ...(aggs && { aggs }) },
  };
}

function splField(dataset: Dataset, ecsField: string): SplField {
  const f = dataset.fields[ecsField];
  if (!f) throw new Error(`no Splunk spelling for ${ecsField}`); // loadDashboardSources checks this first
  return f;
}

const splQuote = (v: string): string => `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function toSplFilter(filter: readonly FilterClause[], dataset: Dataset): string {
  return filter
    .map((c) => {
      const f = splField(dataset, c.field);
      if ('exists' in c) return c.exists ? `${f.spl}=*` : `NOT ${f.spl}=*`;
      const values = ('is' in c ? list(c.is) : list(c.not)).map((v) => f.values?.[String(v)] ?? String(v));
      const ors = values.map((v) => `${f.spl}=${splQuote(v)}`);
      const body = ors.length === 1 ? ors[0]! : `(${ors.join(' OR ')})`;
      return 'is' in c ? body : `NOT ${body}`;
    })
    .join(' ');
}

function splMetric(panel: Panel, dataset: Dataset): { expr: string; name: string } {
  const m = panel.metric;
  if (m.op === 'count') return { expr: 'count', name: 'count' };
  const fn = m.op === 'cardinality' ? 'dc' : m.op;
  const name = `${m.op}_${splField(dataset, m.field).spl.replace(/\W/g, '_')}`;
  return { expr: `${fn}(${splField(dataset, m.field).spl}) as ${name}`, name };
}

/** A whole `index=*` term: the datasets' way of saying "every index the role may search". */
const ALL_INDEXES = /(^|\s)index=\*(?=\s|$)/;

/**
 * The dataset's base search, restricted to `indexes` when given (`dashboards install --splunk-index`):
 * their term takes the place of `index=*`, or comes first when the search names indexes of its own
 * (which it then narrows). Without them the search is the dataset's, as shipped.
 */
function splBase(dataset: Dataset, indexes: readonly string[] | undefined): string {
  const search = dataset.splunk.search;
  if (!indexes?.length) return search;
  const term = splunkIndexTerm(indexes);
  return ALL_INDEXES.test(search) ? search.replace(ALL_INDEXES, `$1${term}`) : `${term} ${search}`;
}

/** The panel as one SPL search over the dataset's sourcetype (in `indexes` when given). */
export function panelSpl(panel: Panel, dataset: Dataset, indexes?: readonly string[]): string {
  const parts = [splBase(dataset, indexes)];
  const where = toSplFilter(panel.filter, dataset);
  if (where) parts[0] = `${parts[0]} ${where}`;
  const preps = new Set(
    [...panel.split, ...(panel.metric.op === 'count' ? [] : [panel.metric.field])]
      .map((f) => splField(dataset, f).prep)
      .filter((p): p is string => p !== undefined),
  );
  parts.push(...preps);
  const metric = splMetric(panel, dataset);
  const by = panel.split.map((f) => splField(dataset, f).spl);
  if (panel.kind === 'map') {
    parts.push(
      `iplocation ${splField(dataset, panel.geo!).spl}`,
      `geostats latfield=lat longfield=lon ${metric.expr}`,
    );
  } else if (panel.time) {
    parts.push(
      by.length ? `timechart limit=${panel.size} ${metric.expr} by ${by[0]}` : `timechart ${metric.expr}`,
    );
  } else if (by.length === 0) {
    parts.push(`stats ${metric.expr}`);
  } else {
    parts.push(`stats ${metric.expr} by ${by.join(' ')}`, `sort - ${metric.name}`, `head ${panel.size}`);
  }
  return parts.join(' | ');
}

/** Every SPL field name a dashboard's panels read, for checking against the add-on's field list. */
export function dashboardSplFields(spec: DashboardSpec, dataset: Dataset): string[] {
  const fields = new Set<string>();
  for (const p of spec.panels) {
    for (const c of p.filter) fields.add(splField(dataset, c.field).spl);
    for (const s of p.split) fields.add(splField(dataset, s).spl);
    if (p.metric.op !== 'count') fields.add(splField(dataset, p.metric.field).spl);
    if (p.geo) fields.add(splField(dataset, p.geo).spl);
  }
  return [...fields];
}
