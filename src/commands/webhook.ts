import type { Command } from 'commander';
import { ConnectorError } from '../errors.js';
import { createSelfReporter, metrics } from '../observe/index.js';
import { auditLogTarget, createAuditLog, createResponseRunner, TeeAuditLog } from '../respond/index.js';
import { createWebhookApp, resolveWebhookSecrets, startSweeper } from '../webhook/index.js';
import { commandContext } from './context.js';

export interface WebhookServeOptions {
  config?: string;
  port?: string;
  dryRun?: boolean;
  insecureNoAuth?: boolean;
}

/** `webhook serve`: the receiver, its runner and (unless dry-run) the TTL sweeper, until SIGINT/SIGTERM. */
export async function webhookServeCommand(command: Command, options: WebhookServeOptions): Promise<void> {
  const { config, log } = commandContext(command, options.config);
  const port = options.port === undefined ? config.webhook.port : Number(options.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConnectorError('USAGE', `--port must be 0–65535, got ${options.port}`);
  }
  const respond = options.dryRun ? { ...config.respond, dryRun: true } : config.respond;
  // Audit entries and alerts go to the configured SIEM as well as the audit log, for the dashboards.
  const reporter = await createSelfReporter(config, { metrics: metrics(), log, sinks: [] });
  const runner = createResponseRunner(
    { ...config, respond },
    {
      log,
      ...(reporter ? { audit: new TeeAuditLog(createAuditLog(auditLogTarget(respond)), reporter) } : {}),
    },
  );
  const app = await createWebhookApp(config.webhook, {
    runner,
    secrets: resolveWebhookSecrets(config.webhook),
    log,
    insecureNoAuth: options.insecureNoAuth === true,
    ...(reporter
      ? { onAlert: (a) => reporter.alert({ rule: a.ruleName, id: a.alertId, route: a.route }) }
      : {}),
  });
  const address = await app.listen({ host: config.webhook.host, port });
  log.info(
    { address, dryRun: respond.dryRun, enabled: respond.enabled, policies: config.webhook.policy.length },
    'webhook receiver listening',
  );
  // `respond` already carries --dry-run, so the sweeper sees the same dry-run as the runner.
  const stopSweeper = startSweeper(runner, respond, log);
  await new Promise<void>((resolve) => {
    const stop = () => {
      stopSweeper();
      app
        .close()
        .then(() => reporter?.close())
        .then(() => resolve(), resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
