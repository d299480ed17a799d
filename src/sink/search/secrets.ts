import { readFileSync } from 'node:fs';
import { errorMessage } from '../../errors.js';
import { SearchSinkError } from './errors.js';

/** A secret given inline (usually from the environment) or as a file; trailing newlines of files dropped. */
export function readSecret(
  inline: string | undefined,
  file: string | undefined,
  key: string,
): string | undefined {
  if (inline !== undefined) return inline;
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    // The path is not secret; the content never reaches this message.
    throw new SearchSinkError('SEARCH_CONFIG', `cannot read ${key} file ${file}: ${errorMessage(err)}`, {
      cause: err,
      details: { key, file },
    });
  }
}

/** A file `tls` names (CA bundle, client certificate or key); the path, never the content, in errors. */
export function readTlsFile(key: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SearchSinkError('SEARCH_CONFIG', `cannot read tls.${key} ${file}: ${errorMessage(err)}`, {
      cause: err,
      details: { key: `tls.${key}`, file },
    });
  }
}
