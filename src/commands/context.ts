import type { Command } from 'commander';
import { type ConnectorConfig, loadConfig } from '../config/index.js';
import { NotImplementedError } from '../errors.js';
import { useProxyConfig } from '../network/index.js';
import { createLogger, type Logger, type LogLevel, setLogger } from '../observe/index.js';

/** Options every command accepts (declared on the root program). */
export interface GlobalOptions {
  logLevel?: LogLevel;
}

export interface CommandContext {
  config: ConnectorConfig;
  log: Logger;
}

/**
 * Loads and validates config once for a command, then sets up the logger from it. `--log-level` wins
 * over `ASC_LOG_LEVEL`, which wins over the config file (the environment overrides the file throughout).
 */
export function commandContext(command: Command, configFile?: string): CommandContext {
  const globals = command.optsWithGlobals<GlobalOptions & { config?: string }>();
  const config = loadConfig({
    file: configFile ?? globals.config,
    overrides: globals.logLevel ? { observe: { logLevel: globals.logLevel } } : {},
  });
  const log = createLogger(config.observe.logLevel);
  setLogger(log);
  useProxyConfig(config.proxy, { log });
  return { config, log };
}

/** For commands declared in the CLI whose implementation has not landed: never pretend. */
export function notImplemented(name: string): () => never {
  return () => {
    throw new NotImplementedError(`aws-siem-connector ${name}`);
  };
}
