#!/usr/bin/env node
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { registerCommands } from './commands/index.js';
import { ConfigError } from './config/index.js';
import { ConnectorError, NotImplementedError } from './errors.js';
import { followLauncher } from './launcher.js';
import { LOG_LEVELS } from './observe/index.js';

/** Exit statuses: 0 done, 1 failed at run time (or some input rejected), 2 usage, config or not built. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Error codes that say the command line or the configuration must change (exit 2), as opposed to a run
 * that failed (exit 1). The one place a code is classified: a new usage or configuration error belongs
 * here. Errors a SIEM answers with at run time (a refused HEC token) stay failures: the settings were
 * valid as far as the connector can tell.
 */
export const USAGE_ERROR_CODES: ReadonlySet<string> = new Set([
  /** A flag or argument out of range (commands/*). */
  'USAGE',
  /** ConfigError: config file, environment, secret ARNs, an unreadable `sinks.hec.tokenFile`. */
  'CONFIG_INVALID',
  'NOT_IMPLEMENTED',
  /** `webhook serve` with no token or HMAC secret, one under 16 characters, or an unreadable `*File`. */
  'WEBHOOK_NO_SECRET',
  'WEBHOOK_SECRET_WEAK',
  'WEBHOOK_SECRET_UNREADABLE',
  /** The search sink's unreadable `auth.*File` or `tls.caFile`. */
  'SEARCH_CONFIG',
  /** A rules directory or rule file (`--rules`, `detection.rulesDir`) that cannot be loaded. */
  'RULE_INVALID',
]);

export function exitStatusFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
  return err instanceof ConnectorError && USAGE_ERROR_CODES.has(err.code) ? EXIT.usage : EXIT.failed;
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

// The SDK warns on every start that releases after January 2027 will need Node 22. The lock file pins the
// SDK, so the warning says nothing actionable at run time; the README states the Node requirement.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export function buildProgram(): Command {
  const program = new Command('aws-siem-connector')
    .description(
      'AWS CloudTrail and VPC Flow Logs to Splunk and Elasticsearch/OpenSearch, with detections and responses',
    )
    .version(packageVersion())
    .addOption(
      new Option('--log-level <level>', 'log level (overrides config and ASC_LOG_LEVEL)').choices(LOG_LEVELS),
    )
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  const override = (cmd: Command): void => {
    for (const sub of cmd.commands) {
      sub.exitOverride();
      override(sub);
    }
  };
  override(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return process.exitCode === undefined ? EXIT.ok : Number(process.exitCode);
  } catch (err) {
    // --help and --version surface as "errors" with exit code 0; commander has printed its own message.
    if (err instanceof CommanderError) return exitStatusFor(err);
    if (err instanceof NotImplementedError || err instanceof ConfigError) {
      process.stderr.write(`aws-siem-connector: ${err.message}\n`);
    } else {
      const code = err instanceof ConnectorError ? ` [${err.code}]` : '';
      process.stderr.write(
        `aws-siem-connector: error${code}: ${err instanceof Error ? err.message : String(err)}\n`,
      );
    }
    return exitStatusFor(err);
  }
}

function invokedAsMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    // The bin link is a symlink; compare real paths so `npx aws-siem-connector` counts as main too.
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

/** Runs the command line of this process to its end and sets the exit status. */
export function runAsMain(): void {
  followLauncher();
  let finished = false;
  // The event loop ran dry while a command still awaited something: a bug, never a success. Records may
  // be unacknowledged, so say so and fail instead of exiting 0 in silence.
  process.once('beforeExit', () => {
    if (finished) return;
    process.stderr.write(
      'aws-siem-connector: error [UNFINISHED]: the command stopped with work still pending\n',
    );
    process.exitCode = 70;
  });
  main(process.argv).then((code) => {
    finished = true;
    process.exitCode = code;
  });
}

// Run directly (development, tests); the installed command starts from bin.ts, which may cap the heap first.
if (invokedAsMain()) runAsMain();
