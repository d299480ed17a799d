import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, YAMLError } from 'yaml';
import type { z } from 'zod';
import { ConnectorError, errorMessage } from '../errors.js';
import { scrubUrls } from '../observe/logger.js';
import { applyEnv, type EnvBinding, type EnvOrigin, isPlainObject } from './env.js';
import { type ConnectorConfig, configSchema } from './schema.js';
import { isSecretKey } from './secret-keys.js';

export interface ConfigErrorDetails {
  /** The config file (or `environment`). */
  file?: string;
  /** The dotted config key, or the environment variable, at fault. */
  key?: string;
  /** The environment variable that set `key`, when one did. */
  env?: string;
  /** A file a `*File` key names (not the config file). */
  path?: string;
  line?: number;
  column?: number;
}

export class ConfigError extends ConnectorError {
  constructor(message: string, details: ConfigErrorDetails = {}, cause?: unknown) {
    super('CONFIG_INVALID', message, { details: { ...details }, cause });
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
  const overrides = options.overrides ?? {};
  const { config: withEnv, origins } = applyEnv(fromFile, options.env ?? process.env);
  const merged = deepMerge(withEnv, overrides);
  // A key a command-line flag set no longer has its value from the environment.
  const fromEnv = origins.filter((o) => !overridden(overrides, o.path));
  return deepFreeze(validateConfig(merged, source, fromEnv));
}

/**
 * Validates a whole configuration. `origins` tells which keys came from environment variables, so that
 * an error names the variable to fix (and, unless the key is secret, the value it held).
 */
export function validateConfig(
  raw: unknown,
  source = 'config',
  origins: readonly EnvOrigin[] = [],
): ConnectorConfig {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => describeIssue(issue, origins));
  const first = result.error.issues[0];
  const firstOrigin = first ? originOf(first.path, origins) : undefined;
  throw new ConfigError(`invalid configuration in ${source}:\n  ${lines.join('\n  ')}`, {
    file: source,
    key: first ? issuePath(first) : undefined,
    env: firstOrigin?.env,
  });
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${errorMessage(err)}`, { file }, err);
  }
  const parsed = parseConfigText(text, file);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a mapping of keys to values`, { file });
  }
  return parsed as Record<string, unknown>;
}

/** What each YAML error code means, so an error can say what is wrong without quoting the file. */
const YAML_PROBLEMS: Record<string, string> = {
  ALIAS_PROPS: 'an alias cannot have a tag or anchor',
  BAD_ALIAS: 'bad alias',
  BAD_DIRECTIVE: 'bad directive',
  BAD_DQ_ESCAPE: 'bad escape in a double-quoted string',
  BAD_INDENT: 'bad indentation',
  BAD_PROP_ORDER: 'anchor and tag in the wrong order',
  BAD_SCALAR_START: 'a plain value starts with a reserved character',
  BLOCK_AS_IMPLICIT_KEY: 'a nested mapping where a value was expected (a value with ": " needs quotes)',
  BLOCK_IN_FLOW: 'a block collection inside [ ] or { }',
  DUPLICATE_KEY: 'duplicate key',
  IMPOSSIBLE: 'unparseable input',
  KEY_OVER_1024_CHARS: 'a key longer than 1024 characters',
  MISSING_CHAR: 'a closing quote or bracket is missing',
  MULTILINE_IMPLICIT_KEY: 'a key spans lines (a missing quote or colon?)',
  MULTIPLE_ANCHORS: 'more than one anchor on a node',
  MULTIPLE_DOCS: 'more than one document',
  MULTIPLE_TAGS: 'more than one tag on a node',
  NON_STRING_KEY: 'a key that is not a string',
  RESOURCE_EXHAUSTION: 'too many aliases',
  TAB_AS_INDENT: 'a tab used as indentation',
  TAG_RESOLVE_FAILED: 'unknown tag',
  UNEXPECTED_TOKEN: 'unexpected token',
  BAD_COLLECTION_TYPE: 'wrong collection type for its tag',
};

/**
 * YAML is a superset of JSON, so one parser reads both. A parse error is reported by file, line, column
 * and kind only: the parser's own message quotes the offending line, which is often the one holding a
 * token or password (an unclosed quote around a secret is a classic), and the CLI prints errors.
 */
function parseConfigText(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  try {
    // prettyErrors off: the parser would append the source line to the message. Warnings are not printed.
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, logLevel: 'silent' });
    const error = doc.errors[0];
    if (error) throw error;
    return doc.toJS() ?? {};
  } catch (err) {
    if (!(err instanceof YAMLError)) {
      throw new ConfigError(`config file ${file} is not valid YAML or JSON`, { file });
    }
    const { line, col } = lineCounter.linePos(err.pos[0]);
    const problem = YAML_PROBLEMS[err.code] ?? err.code.toLowerCase().replaceAll('_', ' ');
    // No cause: its message holds the text this error leaves out.
    throw new ConfigError(
      `config file ${file} is not valid YAML or JSON: line ${line}, column ${col}: ${problem} [${err.code}]`,
      { file, line, column: col },
    );
  }
}

function issuePath(issue: z.core.$ZodIssue): string {
  return issue.path.map(String).join('.') || '(root)';
}

const startsWith = (path: readonly PropertyKey[], prefix: readonly PropertyKey[]): boolean =>
  prefix.length <= path.length && prefix.every((key, i) => String(key) === String(path[i]));

/** The variable that set this key or one above it (a list variable sets every element). */
function originOf(path: readonly PropertyKey[], origins: readonly EnvOrigin[]): EnvOrigin | undefined {
  return origins.find((o) => startsWith(path, o.path));
}

const EXPECTED: Record<EnvBinding['type'], string> = {
  boolean: 'expected true/false (or 1/0)',
  number: 'expected a number',
  list: 'expected a comma-separated list',
  map: 'expected comma-separated key=value pairs',
  string: 'expected text',
};

function describeIssue(issue: z.core.$ZodIssue, origins: readonly EnvOrigin[]): string {
  const path = issuePath(issue);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (path === '(root)' ? k : `${path}.${k}`));
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  const origin = originOf(issue.path, origins);
  if (!origin) {
    // A check over a whole section may concern keys that variables set below it.
    const below = origins.filter((o) => startsWith(o.path, issue.path)).map((o) => o.env);
    return below.length > 0
      ? `${path} (with ${below.join(', ')}): ${issue.message}`
      : `${path}: ${issue.message}`;
  }
  // Zod's "expected boolean, received string" is about the converted value; say what the variable takes.
  const message = issue.code === 'invalid_type' ? EXPECTED[origin.type] : issue.message;
  // The value helps find the typo, but never for a secret: the error is printed and logged.
  const got =
    isSecretKey(origin.path) || isSecretKey(issue.path)
      ? ''
      : `, got ${JSON.stringify(typeof origin.value === 'string' ? scrubUrls(origin.value) : origin.value)}`;
  return `${path} (from ${origin.env}): ${message}${got}`;
}

/** Whether a command-line override sets this key (or a section above it). */
function overridden(overrides: Record<string, unknown>, path: readonly string[]): boolean {
  let node: unknown = overrides;
  for (const key of path) {
    if (!isPlainObject(node) || !(key in node) || node[key] === undefined) return false;
    node = node[key];
    if (!isPlainObject(node)) return true;
  }
  return true;
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

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
