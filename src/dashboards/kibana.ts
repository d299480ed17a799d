import { toKql } from './queries.js';
import type { DashboardSources, DashboardSpec, Dataset, Panel } from './spec.js';

/**
 * Kibana 8.x saved objects: one data view per dataset, one aggregation-based visualisation (or Maps
 * object) per panel, one dashboard per spec. Aggregation-based visualisations are chosen over Lens
 * because their state is small, stable across 8.x minors and maps one-to-one onto the query DSL the
 * tests run.
 */

export interface SavedObject {
  type: 'index-pattern' | 'visualization' | 'map' | 'dashboard';
  id: string;
  attributes: Record<string, unknown>;
  references: { name: string; type: string; id: string }[];
  coreMigrationVersion: string;
  typeMigrationVersion: string;
  managed: false;
}

// The lowest versions whose shapes these objects have; Kibana migrates them forward on import.
const CORE_MIGRATION_VERSION = '8.8.0';
const TYPE_MIGRATION_VERSION: Record<SavedObject['type'], string> = {
  'index-pattern': '8.0.0',
  visualization: '8.5.0',
  map: '8.4.0',
  dashboard: '8.9.0',
};

const INDEX_REF = 'kibanaSavedObjectMeta.searchSourceJSON.index';

function savedObject(
  type: SavedObject['type'],
  id: string,
  attributes: Record<string, unknown>,
  references: SavedObject['references'],
): SavedObject {
  return {
    type,
    id,
    attributes,
    references,
    coreMigrationVersion: CORE_MIGRATION_VERSION,
    typeMigrationVersion: TYPE_MIGRATION_VERSION[type],
    managed: false,
  };
}

function dataViewObject(dataset: Dataset): SavedObject {
  return savedObject(
    'index-pattern',
    dataset.kibana.dataView,
    {
      title: dataset.kibana.indexPattern,
      name: `${dataset.title} (aws-siem-connector)`,
      timeFieldName: '@timestamp',
      fields: '[]',
      fieldFormatMap: '{}',
      runtimeFieldMap: '{}',
      sourceFilters: '[]',
      allowNoIndex: true,
    },
    [],
  );
}

const metricLabel = (p: Panel): string =>
  p.metric.op === 'count' ? 'Count' : `${p.metric.op} of ${p.metric.field}`;

function aggs(panel: Panel): Record<string, unknown>[] {
  const m = panel.metric;
  const out: Record<string, unknown>[] = [
    {
      id: '1',
      enabled: true,
      type: m.op,
      schema: 'metric',
      params: m.op === 'count' ? {} : { field: m.field },
    },
  ];
  let next = 2;
  if (panel.time) {
    out.push({
      id: String(next++),
      enabled: true,
      type: 'date_histogram',
      schema: 'segment',
      params: {
        field: '@timestamp',
        useNormalizedEsInterval: true,
        interval: 'auto',
        min_doc_count: 1,
        extended_bounds: {},
      },
    });
  }
  panel.split.forEach((field, i) => {
    const schema =
      panel.kind === 'table'
        ? 'bucket'
        : panel.kind === 'pie'
          ? 'segment'
          : panel.time || i > 0
            ? 'group'
            : 'segment';
    out.push({
      id: String(next++),
      enabled: true,
      type: 'terms',
      schema,
      params: {
        field,
        orderBy: '1',
        order: 'desc',
        size: panel.size,
        otherBucket: false,
        missingBucket: false,
      },
    });
  });
  return out;
}

function xyParams(panel: Panel, type: 'line' | 'histogram'): Record<string, unknown> {
  return {
    type,
    grid: { categoryLines: false },
    categoryAxes: [
      {
        id: 'CategoryAxis-1',
        type: 'category',
        position: 'bottom',
        show: true,
        scale: { type: 'linear' },
        labels: { show: true, filter: true, truncate: 100 },
        title: {},
      },
    ],
    valueAxes: [
      {
        id: 'ValueAxis-1',
        name: 'LeftAxis-1',
        type: 'value',
        position: 'left',
        show: true,
        scale: { type: 'linear', mode: 'normal' },
        labels: { show: true, rotate: 0, filter: false, truncate: 100 },
        title: { text: metricLabel(panel) },
      },
    ],
    seriesParams: [
      {
        show: true,
        type,
        mode: type === 'histogram' ? 'stacked' : 'normal',
        data: { label: metricLabel(panel), id: '1' },
        valueAxis: 'ValueAxis-1',
        drawLinesBetweenPoints: true,
        lineWidth: 2,
        showCircles: true,
        interpolate: 'linear',
      },
    ],
    addTooltip: true,
    legendPosition: 'right',
    times: [],
    addTimeMarker: false,
    thresholdLine: { show: false, value: 10, width: 1, style: 'full', color: '#E7664C' },
    labels: {},
  };
}

function visState(panel: Panel): Record<string, unknown> {
  switch (panel.kind) {
    case 'metric':
      return {
        type: 'metric',
        params: {
          addTooltip: true,
          addLegend: false,
          type: 'metric',
          metric: {
            percentageMode: false,
            useRanges: false,
            colorSchema: 'Green to Red',
            metricColorMode: 'None',
            colorsRange: [{ from: 0, to: 10000 }],
            labels: { show: true },
            invertColors: false,
            style: { bgFill: '#000', bgColor: false, labelColor: false, subText: '', fontSize: 60 },
          },
        },
      };
    case 'table':
      return {
        type: 'table',
        params: {
          perPage: 10,
          showPartialRows: false,
          showMetricsAtAllLevels: false,
          showTotal: false,
          totalFunc: 'sum',
          percentageCol: '',
        },
      };
    case 'pie':
      return {
        type: 'pie',
        params: {
          type: 'pie',
          addTooltip: true,
          legendDisplay: 'show',
          legendPosition: 'right',
          isDonut: true,
          labels: { show: true, values: true, last_level: true, truncate: 100 },
        },
      };
    case 'line':
      return { type: 'line', params: xyParams(panel, 'line') };
    case 'bar':
      return { type: 'histogram', params: xyParams(panel, 'histogram') };
    case 'map':
      throw new Error('map panels are Maps objects, not visualisations');
  }
}

function visualizationObject(spec: DashboardSpec, panel: Panel, dataset: Dataset): SavedObject {
  const state = visState(panel);
  return savedObject(
    'visualization',
    `${spec.id}-${panel.id}`,
    {
      title: `${spec.title}: ${panel.title}`,
      description: '',
      uiStateJSON: '{}',
      version: 1,
      visState: JSON.stringify({ title: `${spec.title}: ${panel.title}`, ...state, aggs: aggs(panel) }),
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({
          query: { query: toKql(panel.filter), language: 'kuery' },
          filter: [],
          indexRefName: INDEX_REF,
        }),
      },
    },
    [{ name: INDEX_REF, type: 'index-pattern', id: dataset.kibana.dataView }],
  );
}

function mapObject(spec: DashboardSpec, panel: Panel, dataset: Dataset): SavedObject {
  const layers = [
    {
      id: 'basemap',
      label: null,
      type: 'EMS_VECTOR_TILE',
      sourceDescriptor: { type: 'EMS_TMS', isAutoSelect: true, lightModeDefault: 'road_map_desaturated' },
      minZoom: 0,
      maxZoom: 24,
      alpha: 1,
      visible: true,
      style: { type: 'EMS_VECTOR_TILE' },
      includeInFitToBounds: true,
    },
    {
      id: 'sources',
      label: panel.title,
      type: 'GEOJSON_VECTOR',
      sourceDescriptor: {
        type: 'ES_GEO_GRID',
        id: `${spec.id}-${panel.id}-grid`,
        geoField: panel.geo,
        requestType: 'point',
        resolution: 'COARSE',
        metrics: [{ type: 'count' }],
        applyGlobalQuery: true,
        applyGlobalTime: true,
        indexPatternRefName: 'layer_1_source_index_pattern',
      },
      minZoom: 0,
      maxZoom: 24,
      alpha: 0.75,
      visible: true,
      style: {
        type: 'VECTOR',
        isTimeAware: true,
        properties: {
          fillColor: {
            type: 'DYNAMIC',
            options: {
              color: 'Blues',
              field: { name: 'doc_count', origin: 'source' },
              fieldMetaOptions: { isEnabled: true, sigma: 3 },
            },
          },
          iconSize: {
            type: 'DYNAMIC',
            options: {
              minSize: 4,
              maxSize: 32,
              field: { name: 'doc_count', origin: 'source' },
              fieldMetaOptions: { isEnabled: true, sigma: 3 },
            },
          },
        },
      },
      query: { query: toKql(panel.filter), language: 'kuery' },
      includeInFitToBounds: true,
    },
  ];
  return savedObject(
    'map',
    `${spec.id}-${panel.id}`,
    {
      title: `${spec.title}: ${panel.title}`,
      description: '',
      layerListJSON: JSON.stringify(layers),
      mapStateJSON: JSON.stringify({
        zoom: 1.2,
        center: { lon: 0, lat: 20 },
        timeFilters: { from: 'now-24h', to: 'now' },
        refreshConfig: { isPaused: true, interval: 0 },
        query: { query: '', language: 'kuery' },
        filters: [],
        settings: {},
      }),
      uiStateJSON: JSON.stringify({ isLayerTOCOpen: true, openTOCDetails: [] }),
    },
    [{ name: 'layer_1_source_index_pattern', type: 'index-pattern', id: dataset.kibana.dataView }],
  );
}

/** Grid positions on Kibana's 48-column grid: metrics are small tiles, every other panel half a row. */
function layout(panels: readonly Panel[]): { x: number; y: number; w: number; h: number }[] {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  return panels.map((p) => {
    const w = p.kind === 'metric' ? 12 : 24;
    const h = p.kind === 'metric' ? 7 : 15;
    if (x + w > 48) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const pos = { x, y, w, h };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    return pos;
  });
}

function dashboardObject(spec: DashboardSpec, panelObjects: readonly SavedObject[]): SavedObject {
  const positions = layout(spec.panels);
  const panels = spec.panels.map((p, i) => ({
    version: '8.9.0',
    type: panelObjects[i]!.type,
    gridData: { ...positions[i]!, i: p.id },
    panelIndex: p.id,
    embeddableConfig: { enhancements: {} },
    panelRefName: `panel_${p.id}`,
  }));
  return savedObject(
    'dashboard',
    spec.id,
    {
      title: spec.title,
      description: spec.description,
      panelsJSON: JSON.stringify(panels),
      optionsJSON: JSON.stringify({
        useMargins: true,
        syncColors: false,
        syncCursor: true,
        syncTooltips: false,
        hidePanelTitles: false,
      }),
      timeRestore: true,
      timeFrom: 'now-24h',
      timeTo: 'now',
      refreshInterval: { pause: true, value: 0 },
      version: 1,
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }),
      },
    },
    spec.panels.map((p, i) => ({
      name: `${p.id}:panel_${p.id}`,
      type: panelObjects[i]!.type,
      id: panelObjects[i]!.id,
    })),
  );
}

/** Saved objects for one dashboard, data view first so an import resolves every reference. */
export function kibanaObjects(spec: DashboardSpec, sources: DashboardSources): SavedObject[] {
  const dataset = sources.datasets[spec.dataset]!;
  const panels = spec.panels.map((p) =>
    p.kind === 'map' ? mapObject(spec, p, dataset) : visualizationObject(spec, p, dataset),
  );
  return [dataViewObject(dataset), ...panels, dashboardObject(spec, panels)];
}

export function toNdjson(objects: readonly SavedObject[]): string {
  return `${objects.map((o) => JSON.stringify(o)).join('\n')}\n`;
}
