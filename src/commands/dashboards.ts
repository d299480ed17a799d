import {
  type Credentials,
  type InstallResult,
  type InstallStep,
  installKibanaDashboards,
  installSplunkDashboards,
} from '../dashboards/index.js';
import { ConnectorError } from '../errors.js';
import { splunkIndexes } from '../splunk-index.js';

export interface DashboardsInstallOptions {
  kibana?: string;
  splunk?: string;
  space?: string;
  app: string;
  dryRun?: boolean;
  /** Overwrite Kibana objects and Splunk views the user edited since our install (kept otherwise). */
  force?: boolean;
  /** Comma-separated indexes the Splunk views search (`--splunk-index`), as for the saved searches. */
  splunkIndex?: string;
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
  // Checked before anything is installed: a bad name must not leave Kibana done and Splunk not.
  const indexes = splunkIndexes(opts.splunkIndex);
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
        indexes,
        dryRun: opts.dryRun,
        force: opts.force,
      }),
    );
  }
  for (const r of results) {
    for (const s of r.steps) {
      const note = s.action === 'keep' ? ` (${why(r.target, s)}; --force overwrites it)` : '';
      out(`${r.target} ${s.planned ? 'would ' : ''}${s.action} ${s.object}${note}`);
    }
    out(summary(r));
  }
  return results;
}

const SIEM = { kibana: 'Kibana', splunk: 'Splunk' } as const;

function why(target: InstallResult['target'], step: InstallStep): string {
  return step.reason === 'edited'
    ? `edited in ${SIEM[target]} since the last install`
    : 'no record of our install and not what we ship (made or edited outside this tool, or installed by an older release)';
}

/** One line per target: how many of each action, and which objects were kept and why. */
function summary(r: InstallResult): string {
  const actions: InstallStep['action'][] = ['create', 'update', 'unchanged', 'keep'];
  const counts = actions.map((a) => `${r.steps.filter((s) => s.action === a).length} ${a}`).join(', ');
  const kept = r.steps.filter((s) => s.action === 'keep');
  const head = `${r.target} summary${r.steps[0]?.planned ? ' (dry run)' : ''}: ${counts}`;
  if (kept.length === 0) return head;
  const edited = kept.filter((s) => s.reason === 'edited').map((s) => s.object);
  const unrecorded = kept.filter((s) => s.reason !== 'edited').map((s) => s.object);
  const groups = [
    edited.length ? `edited in ${SIEM[r.target]} since the last install: ${edited.join(', ')}` : '',
    unrecorded.length ? `no install record and not what we ship: ${unrecorded.join(', ')}` : '',
  ].filter(Boolean);
  return `${head}; kept as the user's (--force overwrites them): ${groups.join('; ')}`;
}
