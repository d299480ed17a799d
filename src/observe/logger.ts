import { type Logger, type LoggerOptions, pino } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const REDACTED = '[redacted]';

/**
 * Key names whose values are secrets, matched at any depth. Secrets reach log calls through config
 * objects, HTTP requests (headers in any case: `Authorization`, `X-Splunk-Token`), AWS credentials and
 * SDK errors; pino's redact paths are exact, so a key one level deeper than a pattern, or spelt with
 * another case, slipped through. The names follow the config schema's convention: a key ending in
 * token, password, secret or apiKey holds a secret, while `tokenFile` and `*SecretArn` hold where it
 * is, not what. Keys are compared lower-cased with separators removed, so `x-splunk-token`, `api_key`,
 * `ASC_HEC_TOKEN` and `hmacSecret` all match. This is the only list: config errors ask `isSecretName`
 * too (config/secret-keys.ts), so a name added here is kept out of both.
 */
const SECRET_NAME =
  /(token|password|passwd|secret|apikey|authorization|secretaccesskey|secretkey|privatekey|cookie)$/;

/** Parameters of a URL query that carry a credential (Splunk's webhook sends `?token=`). */
const SECRET_QUERY = /([?&](?:token|access_token|api_key|apikey|password)=)[^&#\s]*/gi;
/** The password of a URL's user info (`https://elastic:changeme@host`), whatever key holds the URL. */
const URL_PASSWORD = /(:\/\/[^/?#@\s:]*:)[^/?#@\s]*@/g;

/**
 * `text` with the credentials of any URL in it replaced: a user info password and secret query
 * parameters. URLs reach logs and errors under all sorts of keys (`node`, `urls`, an SDK's `endpoint`).
 */
export function scrubUrls(text: string): string {
  return text.includes('://') ? scrubUrl(text) : text;
}

function scrubUrl(text: string): string {
  return text.replace(URL_PASSWORD, `$1${REDACTED}@`).replace(SECRET_QUERY, `$1${REDACTED}`);
}

/**
 * `text` with every occurrence of `token` replaced by `[token]`. For text a receiver sent back (an HTTP
 * reply, a refusal reason), which goes into errors and logs and may echo the token it was sent: no key
 * names it as a secret, so only the value itself can be looked for.
 */
export function maskToken(text: string, token: string | undefined): string {
  return token ? text.split(token).join('[token]') : text;
}

/** Beyond pino's own limits (depth 5, 100 entries) nothing is printed, so nothing needs scrubbing. */
const MAX_DEPTH = 10;
const MAX_ENTRIES = 1000;

// Log keys repeat (a few hundred distinct names), so each is normalised once.
const verdicts = new Map<string, 'secret' | 'url' | 'auth' | 'plain'>();

function classify(key: string): 'secret' | 'url' | 'auth' | 'plain' {
  let verdict = verdicts.get(key);
  if (verdict) return verdict;
  const name = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  verdict = SECRET_NAME.test(name)
    ? 'secret'
    : name === 'auth'
      ? 'auth'
      : /(url|uri|href)$/.test(name)
        ? 'url'
        : 'plain';
  if (verdicts.size < 10_000) verdicts.set(key, verdict);
  return verdict;
}

/**
 * Whether a string held under a key of this name is a secret: what the logger redacts, and what
 * configuration errors leave out. (`auth` counts: as a string it is `user:password`.)
 */
export function isSecretName(key: string): boolean {
  const kind = classify(key);
  return kind === 'secret' || kind === 'auth';
}

function scrubValue(key: string, value: unknown, depth: number, path: object[]): unknown {
  const kind = classify(key);
  if (kind === 'secret' && value !== undefined && value !== null) return REDACTED;
  // `auth` is an object of credentials (scrubbed key by key) or a `user:password` string.
  if (kind === 'auth' && typeof value === 'string') return REDACTED;
  // Held under a URL key, a relative one (`/alerts/splunk?token=…`) is scrubbed too.
  if (kind === 'url' && typeof value === 'string') return scrubUrl(value);
  return scrub(value, depth + 1, path);
}

/**
 * `value` with every secret-named key's value replaced, at any depth. Copy on write: objects without a
 * secret are returned as they are, so an ordinary log line costs one walk and no allocation; the
 * caller's objects are never modified.
 */
export function redactSecrets(value: unknown): unknown {
  return scrub(value, 0, []);
}

function scrub(value: unknown, depth: number, path: object[]): unknown {
  if (typeof value === 'string') return scrubUrls(value);
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  // A cycle, printed as pino would: the reference back would reach the unscrubbed original.
  if (path.includes(value)) return '[Circular]';
  // Buffers are views too.
  if (ArrayBuffer.isView(value) || value instanceof Date) return value;
  path.push(value);
  try {
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      const n = Math.min(value.length, MAX_ENTRIES);
      for (let i = 0; i < n; i++) {
        const next = scrub(value[i], depth + 1, path);
        if (next !== value[i]) {
          copy ??= value.slice();
          copy[i] = next;
        }
      }
      return copy ?? value;
    }
    if (value instanceof Error) return scrubError(value, depth, path);
    let copy: Record<string, unknown> | undefined;
    let seen = 0;
    for (const key in value) {
      if (++seen > MAX_ENTRIES) break;
      if (!Object.hasOwn(value, key)) continue;
      const current = (value as Record<string, unknown>)[key];
      const next = scrubValue(key, current, depth, path);
      if (next !== current) {
        copy ??= { ...(value as Record<string, unknown>) };
        copy[key] = next;
      }
    }
    return copy ?? value;
  } finally {
    path.pop();
  }
}

/**
 * An error is kept as it is (pino's err serializer prints it) unless a property or its cause holds a
 * secret (an SDK error carrying the request's headers); then a copy of the same class is printed, with
 * those values scrubbed.
 */
function scrubError(err: Error, depth: number, path: object[]): unknown {
  const own: Record<string, unknown> = {};
  for (const key in err) own[key] = (err as unknown as Record<string, unknown>)[key];
  const hasCause = err.cause !== undefined;
  if (hasCause) own.cause = err.cause;
  const scrubbed = scrub(own, depth, path) as Record<string, unknown>;
  if (scrubbed === own) return err;
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Error;
  const hidden = (key: string, value: unknown) =>
    Object.defineProperty(copy, key, { value, enumerable: false, writable: true, configurable: true });
  hidden('message', err.message);
  hidden('stack', err.stack);
  if (Object.hasOwn(err, 'name')) hidden('name', err.name);
  const { cause, ...props } = scrubbed;
  if (hasCause) hidden('cause', cause);
  return Object.assign(copy, props);
}

let root: Logger | undefined;

export function createLogger(
  level: LogLevel = 'info',
  destination?: NodeJS.WritableStream,
  options: LoggerOptions = {},
): Logger {
  const { formatters = {}, ...rest } = options;
  const opts: LoggerOptions = {
    level,
    base: { name: 'aws-siem-connector' },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...rest,
    formatters: {
      ...formatters,
      // Every line's fields pass the scrubber before serializers and stringify. (Child bindings do not:
      // pino skips formatters for them; they are constant labels such as `{ sink: 'hec' }`.)
      log: (object) =>
        redactSecrets(formatters.log ? formatters.log(object) : object) as Record<string, unknown>,
    },
  };
  // Logs go to stderr so that commands which print data (map, detect) keep stdout clean.
  return pino(opts, destination ?? pino.destination({ fd: 2, sync: true }));
}

/** The process-wide logger; `setLogger` replaces it once the CLI has read --log-level and config. */
export function logger(): Logger {
  root ??= createLogger((process.env.ASC_LOG_LEVEL as LogLevel | undefined) ?? 'info');
  return root;
}

export function setLogger(next: Logger): void {
  root = next;
}
