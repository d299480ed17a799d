import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CIM_EVENTTYPES, eventtypesConf, tagsConf } from './cim-eventtypes.js';
import { kibanaRules, SPLUNK_APP, splunkSavedSearches, toNdjson } from './install.js';
import type { Rule } from './model.js';
import { type SplOptions, savedSearchStanza } from './splunk.js';

/**
 * Artefacts for users who install by hand: `kibana/detection-rules.ndjson` for the Detection Engine
 * import, and a Splunk app folder (`splunk/aws_siem_connector/`) holding the saved searches and the
 * eventtypes and tags that put the connector's events in the CIM data models (see cim-eventtypes.ts).
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
      'description = Scheduled detections for CloudTrail and VPC Flow Logs, compiled from Sigma rules, and the eventtypes and tags that put them in the CIM data models.',
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
  await writeFile(join(appDir, 'default', 'eventtypes.conf'), eventtypesConf());
  await writeFile(join(appDir, 'default', 'tags.conf'), tagsConf());
  await writeFile(
    join(appDir, 'metadata', 'default.meta'),
    [
      '# Exported system-wide: the CIM data models search from their own app and see eventtypes and tags',
      '# of this one only when they are exported.',
      '[]',
      'access = read : [ * ], write : [ admin ]',
      'export = system',
      '',
    ].join('\n'),
  );
  await writeFile(
    join(appDir, 'README.txt'),
    [
      'Replace $ASC_WEBHOOK_TOKEN$ in default/savedsearches.conf with the receiver token (or install with',
      '`aws-siem-connector rules install --splunk URL`, which does it from ASC_WEBHOOK_TOKEN), and add the',
      'receiver URL to the webhook allow list (Splunk 9.0+).',
      '',
      "default/eventtypes.conf and default/tags.conf tag the connector's events (by the CIM fields it indexes)",
      'for the Authentication, Change and Network_Traffic data models, with or without the Splunk Add-on for AWS.',
      '',
    ].join('\n'),
  );
  return {
    kibanaFile,
    kibanaRules: kibana.length,
    splunkApp: appDir,
    savedSearches: searches.length,
    eventtypes: CIM_EVENTTYPES.length,
  };
}
