import {
  type Credentials,
  type InstallResult,
  installKibanaDashboards,
  installSplunkDashboards,
} from '../dashboards/index.js';
import { ConnectorError } from '../errors.js';

export interface DashboardsInstallOptions {
  kibana?: string;
  splunk?: string;
  space?: string;
  app: string;
  dryRun?: boolean;
  /** Overwrite Kibana objects the user edited since our install (kept otherwise). */
  force?: boolean;
}

/** Credentials come from the environment only, so they never appear in shell history or process lists. */
export function credentialsFromEnv(
  target: 'kibana' | 'splunk',
  env: NodeJS.ProcessEnv = process.env,
): Credentials {
  const prefix = target === 'kibana' ? 'ASC_KIBANA' : 'ASC_SPLUNK';
  const token = target === 'kibana' ? env.ASC_KIBANA_API_KEY : env.ASC_SPLUNK_TOKEN;
  if (token) return { kind: 'token', token };
  const username = env[`${prefix}_USERNAME`];
  const password = env[`${prefix}_PASSWORD`];
  if (username && password) return { kind: 'basic', username, password };
  return { kind: 'none' };
}

export async function dashboardsInstallCommand(
  opts: DashboardsInstallOptions,
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<InstallResult[]> {
  if (!opts.kibana && !opts.splunk) {
    throw new ConnectorError('USAGE', 'dashboards install: give --kibana URL, --splunk URL or both');
  }
  const results: InstallResult[] = [];
  if (opts.kibana) {
    results.push(
      await installKibanaDashboards({
        url: opts.kibana,
        space: opts.space,
        credentials: credentialsFromEnv('kibana'),
        dryRun: opts.dryRun,
        force: opts.force,
      }),
    );
  }
  if (opts.splunk) {
    results.push(
      await installSplunkDashboards({
        url: opts.splunk,
        app: opts.app,
        credentials: credentialsFromEnv('splunk'),
        dryRun: opts.dryRun,
      }),
    );
  }
  for (const r of results) {
    for (const s of r.steps) {
      const note = s.action === 'keep' ? ' (edited since the last install; --force overwrites it)' : '';
      out(`${r.target} ${s.planned ? 'would ' : ''}${s.action} ${s.object}${note}`);
    }
  }
  return results;
}
