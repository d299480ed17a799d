import type { Command } from 'commander';
import type { DetectOptions } from './detect.js';
import type { MapCommandOptions } from './map.js';

/**
 * Every subcommand of the design's table. Each area registers its own command in its own file
 * (src/commands/<name>.ts) and loads its implementation lazily, so `--help` stays fast.
 */
export function registerCommands(program: Command): void {
  program
    .command('run')
    .description(
      'consume S3 notifications from SQS (or poll S3 locations) and ship every record to the configured sinks',
    )
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .action(async (options: { config?: string }, command: Command) => {
      const { runCommand } = await import('./run.js');
      await runCommand(command, options);
    });

  program
    .command('map')
    .description('decode and map local objects (gzip or plain) to NDJSON on stdout')
    .option('-t, --type <type>', 'cloudtrail | vpcflow | auto', 'auto')
    .option('-s, --schema <schema>', 'ecs | cim', 'ecs')
    .option(
      '-c, --config <file>',
      'config file whose mapping section applies (GeoIP databases, preserveOriginal, cimFlowLineOrder) and pipeline.flowFormats',
    )
    .argument('[files...]', 'files to read; - or nothing for stdin')
    .action(async (files: string[], options: MapCommandOptions) => {
      const { mapCommand } = await import('./map.js');
      await mapCommand(files, options);
    });

  program
    .command('replay')
    .description('backfill objects from S3 or a directory through the same pipeline')
    .requiredOption('--from <source>', 's3://bucket/prefix or a local directory')
    .option('--since <time>', 'only objects at or after this time (ISO 8601)')
    .option('--until <time>', 'only objects before this time (ISO 8601)')
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .action(async (options: import('./replay.js').ReplayCommandOptions, command: Command) => {
      const { replayCommand } = await import('./replay.js');
      await replayCommand(command, options);
    });

  program
    .command('detect')
    .description('evaluate detection rules over ECS NDJSON or raw objects; alerts as NDJSON on stdout')
    .option('--rules <dir>', 'rules directory', 'rules')
    .option('-t, --type <type>', 'auto | cloudtrail | vpcflow | ecs', 'auto')
    .option('--max-groups <n>', 'groups each correlation rule holds at once (as detection.maxGroups)')
    .option(
      '--max-window-events <n>',
      "events a correlation rule's windows hold (as detection.maxWindowEvents)",
    )
    .argument('[files...]', 'files to read; - or nothing for stdin')
    .action(async (files: string[], options: DetectOptions) => {
      const { detectCommand } = await import('./detect.js');
      await detectCommand(files, options);
    });

  const rules = program.command('rules').description('test, build and install detection rules');
  rules
    .command('test')
    .description("run each rule's positive and negative test events")
    .option('--rules <dir>', 'rules directory', 'rules')
    .action(async (options: { rules?: string }) => {
      const { rulesTestCommand } = await import('./rules.js');
      await rulesTestCommand(options);
    });
  rules
    .command('build')
    .description('write Kibana NDJSON and a Splunk app package')
    .option('--rules <dir>', 'rules directory', 'rules')
    .option('--out <dir>', 'output directory', 'build/rules')
    .option('--webhook-url <url>', 'base URL of the alert receiver for Splunk webhook actions')
    .option('--splunk-index <names>', 'comma-separated indexes the Splunk saved searches read')
    .action(async (options: { rules?: string; out?: string; webhookUrl?: string; splunkIndex?: string }) => {
      const { rulesBuildCommand } = await import('./rules.js');
      await rulesBuildCommand(options);
    });
  rules
    .command('install')
    .description(
      'install rules into Kibana or Splunk (idempotent); credentials from ASC_KIBANA_API_KEY or ASC_KIBANA_USERNAME/PASSWORD, ASC_SPLUNK_TOKEN or ASC_SPLUNK_USERNAME/PASSWORD',
    )
    .option('--rules <dir>', 'rules directory', 'rules')
    .option('--kibana <url>', 'Kibana base URL')
    .option('--space <id>', 'Kibana space')
    .option('--splunk <url>', 'Splunk management URL (https://host:8089)')
    .option('--app <name>', 'Splunk app for the saved searches', 'aws_siem_connector')
    .option('--webhook-url <url>', 'base URL of the alert receiver for Splunk webhook actions')
    .option('--splunk-index <names>', 'comma-separated indexes the Splunk saved searches read')
    .option('--dry-run', 'show what would be created or updated; change nothing')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const { rulesInstallCommand } = await import('./rules.js');
      await rulesInstallCommand(options);
    });

  const dashboards = program.command('dashboards').description('Kibana saved objects and Splunk views');
  dashboards
    .command('install')
    .description('install dashboards (idempotent)')
    .option(
      '--kibana <url>',
      'Kibana base URL (credentials: ASC_KIBANA_API_KEY or ASC_KIBANA_USERNAME/PASSWORD)',
    )
    .option(
      '--splunk <url>',
      'Splunk management URL, e.g. https://splunk:8089 (ASC_SPLUNK_TOKEN or USERNAME/PASSWORD)',
    )
    .option('--space <space>', 'Kibana space')
    .option('--app <app>', 'Splunk app that owns the views', 'search')
    .option('--splunk-index <names>', "comma-separated indexes the Splunk views' searches read")
    .option('--dry-run', 'show what would be installed, change nothing')
    .option('--force', 'also overwrite Kibana objects and Splunk views edited since the last install')
    .action(async (opts) => {
      const { dashboardsInstallCommand } = await import('./dashboards.js');
      await dashboardsInstallCommand(opts);
    });

  const setup = program.command('setup').description('prepare a SIEM for the connector');
  setup
    .command('search')
    .description('install index and component templates into Elasticsearch or OpenSearch (idempotent)')
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--dry-run', 'show what would be created or updated; change nothing')
    .option('--json', 'print JSON (with --dry-run, including the bodies that would be written)')
    .action(async (options: { config?: string; dryRun?: boolean; json?: boolean }, command: Command) => {
      const { setupSearchCommand } = await import('./setup-search.js');
      await setupSearchCommand(command, options);
    });

  const webhook = program.command('webhook').description('the SIEM alert receiver');
  webhook
    .command('serve')
    .description('receive SIEM alerts and run the configured responses')
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('-p, --port <port>', 'listen port')
    .option('--dry-run', 'plan every action, change nothing')
    .option('--insecure-no-auth', 'accept alerts without credentials (local tests only; logged loudly)')
    .action(async (options: import('./webhook.js').WebhookServeOptions, command: Command) => {
      const { webhookServeCommand } = await import('./webhook.js');
      await webhookServeCommand(command, options);
    });

  const respond = program.command('respond').description('run a response action by hand');
  for (const verb of ['plan', 'apply', 'undo'] as const) {
    respond
      .command(verb)
      .description(
        verb === 'plan' ? 'show what the action would change; never changes anything' : `${verb} the action`,
      )
      .argument('<action>', 'waf-block-ip | iam-disable-user | ec2-isolate')
      .argument('<target>', 'IP address or CIDR, IAM user/role name or ARN, or instance id')
      .option('-c, --config <file>', 'config file (YAML or JSON)')
      .option('--alert-id <id>', 'the alert or ticket this answers (idempotency key and audit)')
      .option('--ttl <seconds>', 'waf-block-ip: seconds until the sweeper removes the block (0 = never)')
      .option('--json', 'print outcomes as JSON lines')
      .action(
        async (
          action: string,
          target: string,
          options: import('./respond.js').RespondOptions,
          command: Command,
        ) => {
          const { respondCommand } = await import('./respond.js');
          await respondCommand(command, verb, action, target, options);
        },
      );
  }
  respond
    .command('sweep')
    .description(
      'remove WAF blocks whose TTL has passed, and action-store records undone more than respond.stateRetentionDays ago',
    )
    .option('-c, --config <file>', 'config file (YAML or JSON)')
    .option('--plan', 'say what would be removed; change nothing')
    .option('--json', 'print outcomes as JSON lines')
    .action(async (options: import('./respond.js').RespondOptions, command: Command) => {
      const { respondCommand } = await import('./respond.js');
      await respondCommand(command, 'sweep', undefined, undefined, options);
    });

  program
    .command('bench')
    .description('performance harness: throughput, latency and memory, measured side by side')
    .option('--json', 'print JSON')
    .option('--size <size>', 'small (about a minute, for CI) | medium | full', 'small')
    .option('--moto <url>', 'S3 + SQS (and WAFv2) endpoint, e.g. a moto server')
    .option('--search <url>', 'OpenSearch node')
    .option('--hec <url>', 'Splunk HEC base URL')
    .option('--hec-token <token>', 'HEC token (or ASC_HEC_TOKEN)')
    .option('--services', "use the project's test services for endpoints not given")
    .option('--out <file>', 'also write the JSON report to this file')
    .action(async (options: import('./bench.js').BenchCommandOptions, command: Command) => {
      const { benchCommand } = await import('./bench.js');
      await benchCommand(command, options);
    });
}
