import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConnectorError, errorMessage } from '../errors.js';
import { applyEnv } from './env.js';
import { type ConnectorConfig, configSchema } from './schema.js';

export class ConfigError extends ConnectorError {
  constructor(message: string, details: { file?: string; key?: string } = {}, cause?: unknown) {
    super('CONFIG_INVALID', message, { details, cause });
  }
}

export interface LoadConfigOptions {
  /** YAML or JSON file; without one the config comes from defaults and the environment. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Values that win over file and env (command-line flags). */
  overrides?: Record<string, unknown>;
}

/** Reads, merges and validates the configuration once; the result is deeply frozen. */
export function loadConfig(options: LoadConfigOptions = {}): ConnectorConfig {
  const source = options.file ?? 'environment';
  const fromFile = options.file ? readConfigFile(options.file) : {};
  const { config: withEnv } = applyEnv(fromFile, options.env ?? process.env);
  const merged = deepMerge(withEnv, options.overrides ?? {});
  return deepFreeze(validateConfig(merged, source));
}

export function validateConfig(raw: unknown, source = 'config'): ConnectorConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => describeIssue(issue));
  const first = result.error.issues[0];
  throw new ConfigError(`invalid configuration in ${source}:\n  ${lines.join('\n  ')}`, {
    file: source,
    key: first ? issuePath(first) : undefined,
  });
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${errorMessage(err)}`, { file }, err);
  }
  let parsed: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both.
    parsed = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(
      `config file ${file} is not valid YAML or JSON: ${errorMessage(err)}`,
      { file },
      err,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a mapping of keys to values`, { file });
  }
  return parsed as Record<string, unknown>;
}

function issuePath(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.') || '(root)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issuePath(issue);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path === '(root)' ? k : `${path}.${k}`));
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  return `${path}: ${issue.message}`;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] =
      isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : (value as unknown);
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
