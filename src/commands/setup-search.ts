import type { Command } from 'commander';
import { ConnectorError } from '../errors.js';
import {
  buildArtefacts,
  createSearchClient,
  type InstallResult,
  installTemplates,
} from '../sink/search/index.js';
import { commandContext } from './context.js';

export interface SetupSearchOptions {
  config?: string;
  dryRun?: boolean;
  json?: boolean;
}

/**
 * `setup search`: installs the lifecycle policy, component templates and index templates for the
 * configured Elasticsearch or OpenSearch cluster. Idempotent; `--dry-run` reads but never writes.
 */
export async function setupSearchCommand(
  command: Command,
  options: SetupSearchOptions,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<InstallResult[]> {
  const { config } = commandContext(command, options.config);
  const search = config.sinks.search;
  if (!search) {
    throw new ConnectorError(
      'USAGE',
      'setup search: no sinks.search section in the configuration (or ASC_SEARCH_NODE)',
    );
  }
  const artefacts = buildArtefacts(search);
  const client = createSearchClient(search);
  try {
    const results = await installTemplates(client, search, { dryRun: options.dryRun ?? false, artefacts });
    if (options.json) {
      const bodies = new Map(artefacts.map((a) => [a.name, a.body]));
      // A dry run shows what would be written, so it can be reviewed or applied by other means.
      const report = results.map((r) =>
        options.dryRun && r.status !== 'unchanged' ? { ...r, body: bodies.get(r.name) } : r,
      );
      out(JSON.stringify({ dryRun: options.dryRun ?? false, results: report }, null, 2));
    } else {
      for (const r of results) out(`${r.status.padEnd(12)} ${r.kind.replace('_', ' ')} ${r.name}`);
    }
    return results;
  } finally {
    await client.close();
  }
}
