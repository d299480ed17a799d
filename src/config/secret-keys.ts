/**
 * Which config keys hold secrets. The section schemas mark no key as secret; they name them by
 * convention (token, password, apiKey, hmacSecret); the logger's redactSecrets (observe/logger.ts) matches
 * the same names and more (authorization headers, AWS secret keys). Errors use this to leave such values out. `*File` keys hold paths,
 * which are not secret, so only the last segment of a key is matched, and only at its end.
 */
const SECRET_KEY = /(token|password|secret|apikey)$/i;

export function isSecretKey(path: readonly (string | number | PropertyKey)[]): boolean {
  const last = path[path.length - 1];
  return typeof last === 'string' && SECRET_KEY.test(last);
}
