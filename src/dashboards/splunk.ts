import { panelSpl } from './queries.js';
import type { DashboardSources, DashboardSpec, Panel } from './spec.js';

/**
 * Splunk Dashboard Studio views: the JSON definition inside the Simple XML container
 * `<dashboard version="2">`, which both the REST endpoint data/ui/views and an app's
 * default/data/ui/views/ accept.
 */

const VIZ_TYPE: Record<Panel['kind'], (p: Panel) => string> = {
  metric: () => 'splunk.singlevalue',
  line: () => 'splunk.line',
  bar: (p) => (p.time ? 'splunk.column' : 'splunk.bar'),
  pie: () => 'splunk.pie',
  table: () => 'splunk.table',
  map: () => 'splunk.map',
};

const WIDTH = 1440;

/** Splunk view names: letters, digits and underscores. */
export function splunkViewName(spec: DashboardSpec): string {
  return spec.id.replace(/[^A-Za-z0-9_]/g, '_');
}

function vizOptions(panel: Panel): Record<string, unknown> {
  if (panel.kind === 'map') {
    return {
      center: [20, 0],
      zoom: 1,
      layers: [
        {
          type: 'bubble',
          latitude: '> primary | seriesByName("latitude")',
          longitude: '> primary | seriesByName("longitude")',
          bubbleSize:
            '> primary | frameWithoutSeriesNames("latitude", "longitude", "geobin") | frameBySeriesIndexes(0)',
        },
      ],
    };
  }
  if (panel.kind === 'table') return { count: panel.size };
  return {};
}

/** Options of the generated views. */
export interface SplunkViewOptions {
  /** Indexes every search of the view reads (`index IN (…)`); the dataset's own `index=*` without them. */
  indexes?: readonly string[] | undefined;
}

export function splunkDefinition(
  spec: DashboardSpec,
  sources: DashboardSources,
  options: SplunkViewOptions = {},
): Record<string, unknown> {
  const dataset = sources.datasets[spec.dataset]!;
  const visualizations: Record<string, unknown> = {};
  const dataSources: Record<string, unknown> = {};
  const structure: unknown[] = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  for (const panel of spec.panels) {
    const key = panel.id.replace(/-/g, '_');
    dataSources[`ds_${key}`] = {
      type: 'ds.search',
      name: panel.title,
      options: { query: panelSpl(panel, dataset, options.indexes) },
    };
    visualizations[`viz_${key}`] = {
      type: VIZ_TYPE[panel.kind](panel),
      title: panel.title,
      dataSources: { primary: `ds_${key}` },
      options: vizOptions(panel),
    };
    const w = panel.kind === 'metric' ? WIDTH / 4 : WIDTH / 2;
    const h = panel.kind === 'metric' ? 150 : 350;
    if (x + w > WIDTH) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    structure.push({ item: `viz_${key}`, type: 'block', position: { x, y, w, h } });
    x += w;
    rowHeight = Math.max(rowHeight, h);
  }
  return {
    title: spec.title,
    description: spec.description,
    inputs: {
      input_global_trp: {
        type: 'input.timerange',
        title: 'Time range',
        options: { token: 'global_time', defaultValue: '-24h@h,now' },
      },
    },
    defaults: {
      dataSources: {
        'ds.search': {
          options: {
            queryParameters: { earliest: '$global_time.earliest$', latest: '$global_time.latest$' },
          },
        },
      },
    },
    visualizations,
    dataSources,
    layout: { type: 'grid', options: { width: WIDTH }, globalInputs: ['input_global_trp'], structure },
  };
}

const xmlText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The view's XML (what `eai:data` carries). */
export function splunkViewXml(
  spec: DashboardSpec,
  sources: DashboardSources,
  options: SplunkViewOptions = {},
): string {
  // "]]>" cannot occur inside CDATA; JSON can always spell it with an escaped ">".
  const json = JSON.stringify(splunkDefinition(spec, sources, options), null, 2).replace(/]]>/g, ']]\\u003e');
  return [
    '<dashboard version="2" theme="dark">',
    `  <label>${xmlText(spec.title)}</label>`,
    `  <description>${xmlText(spec.description)}</description>`,
    `  <definition><![CDATA[${json}]]></definition>`,
    '</dashboard>',
    '',
  ].join('\n');
}
