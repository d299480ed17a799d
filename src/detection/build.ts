import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kibanaRules, SPLUNK_APP, splunkSavedSearches, toNdjson } from './install.js';
import type { Rule } from './model.js';
import { type SplOptions, savedSearchStanza } from './splunk.js';

/**
 * Artefacts for users who install by hand: `kibana/detection-rules.ndjson` for the Detection Engine
 * import, and a Splunk app folder (`splunk/aws_siem_connector/`) holding the saved searches.
 */
export async function buildArtefacts(
  rules: readonly Rule[],
  outDir: string,
  options: SplOptions & { version?: string } = {},
) {
  const kibana = kibanaRules(rules);
  const kibanaFile = join(outDir, 'kibana', 'detection-rules.ndjson');
  await mkdir(join(outDir, 'kibana'), { recursive: true });
  await writeFile(kibanaFile, toNdjson(kibana));

  const appDir = join(outDir, 'splunk', SPLUNK_APP);
  await mkdir(join(appDir, 'default'), { recursive: true });
  await mkdir(join(appDir, 'metadata'), { recursive: true });
  const searches = splunkSavedSearches(rules, options);
  await writeFile(
    join(appDir, 'default', 'app.conf'),
    [
      '[install]',
      'is_configured = 0',
      '',
      '[ui]',
      'is_visible = 0',
      'label = AWS SIEM Connector detections',
      '',
      '[launcher]',
      'author = aws-siem-connector contributors',
      'description = Scheduled detections for CloudTrail and VPC Flow Logs, compiled from Sigma rules.',
      `version = ${options.version ?? '0.1.0'}`,
      '',
      '[package]',
      `id = ${SPLUNK_APP}`,
      '',
    ].join('\n'),
  );
  await writeFile(
    join(appDir, 'default', 'savedsearches.conf'),
    searches.map((s) => savedSearchStanza(s.name, s.fields)).join('\n'),
  );
  await writeFile(
    join(appDir, 'metadata', 'default.meta'),
    ['[]', 'access = read : [ * ], write : [ admin ]', 'export = system', ''].join('\n'),
  );
  await writeFile(
    join(appDir, 'README.txt'),
    [
      'Replace $ASC_WEBHOOK_TOKEN$ in default/savedsearches.conf with the receiver token (or install with',
      '`aws-siem-connector rules install --splunk URL`, which does it from ASC_WEBHOOK_TOKEN), and add the',
      'receiver URL to the webhook allow list (Splunk 9.0+).',
      '',
    ].join('\n'),
  );
  return { kibanaFile, kibanaRules: kibana.length, splunkApp: appDir, savedSearches: searches.length };
}
