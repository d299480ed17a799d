import { isSecretName } from '../observe/logger.js';

/**
 * Whether a config key holds a secret, so that errors leave its value out. The names are the logger's
 * (observe/logger.ts `isSecretName`), so what a log line redacts an error never prints. Only the last
 * segment of the path is asked, and the names match at its end only: `tokenFile` and `hmacSecretFile`
 * hold paths, which are not secret.
 */
export function isSecretKey(path: readonly (string | number | PropertyKey)[]): boolean {
  const last = path[path.length - 1];
  return typeof last === 'string' && isSecretName(last);
}
