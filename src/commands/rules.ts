import type { Writable } from 'node:stream';
import { buildArtefacts } from '../detection/build.js';
import { loadRules } from '../detection/index.js';
import { type Auth, type InstallReport, installKibana, installSplunk } from '../detection/install.js';
import { runRuleTests } from '../detection/testing.js';
import { splunkIndexes } from '../splunk-index.js';

/** `rules test`: one line per rule and case; exit 1 when any case fails. */
export async function rulesTestCommand(
  options: { rules?: string },
  out: Writable = process.stdout,
): Promise<number> {
  const dir = options.rules ?? 'rules';
  const results = await runRuleTests(dir, await loadRules(dir));
  let failed = 0;
  for (const r of results) {
    if (!r.passed) failed++;
    const outcome = r.passed ? 'ok  ' : 'FAIL';
    const detail = r.passed ? '' : r.kind === 'positive' ? ' (did not fire)' : ` (fired ${r.alerts.length}x)`;
    out.write(`${outcome} ${r.file} ${r.kind}: ${r.name}${detail}\n`);
  }
  const rules = new Set(results.map((r) => r.rule)).size;
  out.write(`${rules} rules, ${results.length} cases, ${failed} failed\n`);
  process.exitCode = failed > 0 ? 1 : 0;
  return failed;
}

export interface BuildOptions {
  rules?: string;
  out?: string;
  webhookUrl?: string;
  /** Comma-separated indexes for the saved searches (`--splunk-index`). */
  splunkIndex?: string;
}

export async function rulesBuildCommand(
  options: BuildOptions,
  out: Writable = process.stdout,
): Promise<void> {
  const rules = await loadRules(options.rules ?? 'rules');
  const built = await buildArtefacts(rules, options.out ?? 'build/rules', {
    webhookUrl: options.webhookUrl,
    indexes: splunkIndexes(options.splunkIndex),
  });
  out.write(
    `${built.kibanaRules} Kibana rules -> ${built.kibanaFile}\n${built.savedSearches} saved searches, ${built.eventtypes} CIM eventtypes and their tags -> ${built.splunkApp}\n`,
  );
}

export interface InstallOptions {
  rules?: string;
  kibana?: string;
  splunk?: string;
  space?: string;
  app?: string;
  webhookUrl?: string;
  splunkIndex?: string;
  dryRun?: boolean;
}

/** Credentials come from the environment only, never the command line (shell history, process lists). */
export function authFromEnv(prefix: 'KIBANA' | 'SPLUNK', env: NodeJS.ProcessEnv = process.env): Auth {
  const apiKey = env[`ASC_${prefix}_API_KEY`];
  if (prefix === 'KIBANA' && apiKey) return { apiKey };
  const token = env[`ASC_${prefix}_TOKEN`];
  if (token) return { token };
  const username = env[`ASC_${prefix}_USERNAME`];
  const password = env[`ASC_${prefix}_PASSWORD`];
  if (username && password) return { username, password };
  return undefined;
}

export async function rulesInstallCommand(
  options: InstallOptions,
  out: Writable = process.stdout,
): Promise<InstallReport[]> {
  if (!options.kibana && !options.splunk) {
    process.stderr.write('aws-siem-connector rules install: give --kibana URL and/or --splunk URL\n');
    process.exitCode = 2;
    return [];
  }
  const rules = await loadRules(options.rules ?? 'rules');
  const reports: InstallReport[] = [];
  if (options.kibana) {
    reports.push(
      await installKibana(rules, {
        url: options.kibana,
        auth: authFromEnv('KIBANA'),
        space: options.space,
        dryRun: options.dryRun,
      }),
    );
  }
  if (options.splunk) {
    reports.push(
      await installSplunk(rules, {
        url: options.splunk,
        auth: authFromEnv('SPLUNK'),
        app: options.app,
        webhookUrl: options.webhookUrl,
        indexes: splunkIndexes(options.splunkIndex),
        webhookToken: process.env.ASC_WEBHOOK_TOKEN,
        dryRun: options.dryRun,
      }),
    );
  }
  for (const report of reports) {
    for (const item of report.items) {
      const fields = item.fields ? ` (${item.fields.join(', ')})` : '';
      const kind = item.kind ? `${item.kind} ` : '';
      out.write(
        `${report.target} ${report.dryRun ? 'would be ' : ''}${item.change}: ${kind}${item.name}${fields}\n`,
      );
    }
    const count = (c: string) => report.items.filter((i) => i.change === c).length;
    out.write(
      `${report.target}: ${count('created')} created, ${count('updated')} updated, ${count('unchanged')} unchanged${report.dryRun ? ' (dry run, nothing written)' : ''}\n`,
    );
  }
  return reports;
}
