import { ConnectorError, type ErrorDetails } from '../../errors.js';

/**
 * Stable codes of the search sink. Item-level codes travel with a rejected or failed record; request-level
 * codes describe why a whole bulk request could not be delivered.
 */
export type SearchSinkErrorCode =
  /** The server refused the document (mapping or parsing); it goes to the dead letter. */
  | 'SEARCH_REJECTED'
  /** The document could not be turned into JSON (cycle, BigInt). */
  | 'SEARCH_SERIALIZE'
  /** One document is larger than the server accepts in a request. */
  | 'SEARCH_TOO_LARGE'
  /** Retries of a transient failure (429, 5xx, connection) ran past the retry window. */
  | 'SEARCH_RETRIES_EXHAUSTED'
  /** The server refused the credentials or the privilege (401/403). */
  | 'SEARCH_AUTH'
  /** A failure that retrying cannot fix (index missing and auto-create off, a malformed request). */
  | 'SEARCH_FAILED'
  /** The server answered with something that is not a bulk response. */
  | 'SEARCH_BAD_RESPONSE'
  /** Settings that cannot work (unreadable secret file, CA file). */
  | 'SEARCH_CONFIG'
  /** Installing templates or policies failed. */
  | 'SEARCH_SETUP'
  /** The sink was closed before the record was written. */
  | 'SEARCH_CLOSED';

export class SearchSinkError extends ConnectorError {
  declare readonly code: SearchSinkErrorCode;

  constructor(
    code: SearchSinkErrorCode,
    message: string,
    options: { cause?: unknown; details?: ErrorDetails } = {},
  ) {
    super(code, message, options);
  }
}
