import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kibanaObjects, toNdjson } from './kibana.js';
import { loadDashboardSources } from './spec.js';
import { splunkViewName, splunkViewXml } from './splunk.js';

/** The shipped `dashboards/` folder (source, fields and generated artefacts), found from this module. */
export function defaultDashboardsDir(): string {
  // src/dashboards/ in development, dist/dashboards/ when built: both are two levels under the package.
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dashboards');
}

export interface GeneratedFile {
  /** Relative to the dashboards folder, e.g. kibana/<id>.ndjson, splunk/<view>.xml. */
  path: string;
  content: string;
}

export interface RenderOptions {
  /** Indexes the Splunk views search (`dashboards install --splunk-index`); not for the shipped files. */
  splunkIndexes?: readonly string[] | undefined;
}

/** Renders every dashboard source into Kibana NDJSON and Splunk views. Pure: writes nothing. */
export function renderDashboards(
  dashboardsDir: string = defaultDashboardsDir(),
  options: RenderOptions = {},
): GeneratedFile[] {
  const sources = loadDashboardSources(path.join(dashboardsDir, 'src'));
  const splunk = { indexes: options.splunkIndexes };
  return sources.dashboards.flatMap((spec) => [
    { path: `kibana/${spec.id}.ndjson`, content: toNdjson(kibanaObjects(spec, sources)) },
    { path: `splunk/${splunkViewName(spec)}.xml`, content: splunkViewXml(spec, sources, splunk) },
  ]);
}

/** Writes the generated artefacts, removing stale ones, so the folder always matches its source. */
export function writeDashboards(dashboardsDir: string = defaultDashboardsDir()): GeneratedFile[] {
  const files = renderDashboards(dashboardsDir);
  for (const sub of ['kibana', 'splunk']) {
    const dir = path.join(dashboardsDir, sub);
    mkdirSync(dir, { recursive: true });
    const keep = new Set(files.filter((f) => f.path.startsWith(`${sub}/`)).map((f) => path.basename(f.path)));
    for (const old of readdirSync(dir)) {
      if (!keep.has(old)) rmSync(path.join(dir, old));
    }
  }
  for (const f of files) {
    const target = path.join(dashboardsDir, f.path);
    const current = safeRead(target);
    if (current !== f.content) writeFileSync(target, f.content);
  }
  return files;
}

function safeRead(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const files = writeDashboards();
  process.stdout.write(`${files.map((f) => f.path).join('\n')}\n`);
}
