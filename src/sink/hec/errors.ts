import { ConnectorError, type ErrorDetails } from '../../errors.js';

export type HecErrorCode =
  | 'HEC_TOKEN_INVALID'
  | 'HEC_TOKEN_DISABLED'
  | 'HEC_TOKEN_REQUIRED'
  | 'HEC_QUERY_AUTH_DISABLED'
  | 'HEC_INDEX_INVALID'
  | 'HEC_ACK_DISABLED'
  | 'HEC_CHANNEL_MISSING'
  | 'HEC_CHANNEL_INVALID'
  | 'HEC_ENDPOINT_INVALID'
  | 'HEC_UNEXPECTED_RESPONSE'
  /** Something other than HEC answered (a 2xx without HEC's success reply, a 400 without a HEC code). */
  | 'HEC_FOREIGN_RESPONSE'
  | 'HEC_UNAVAILABLE'
  | 'HEC_REJECTED'
  | 'HEC_EVENT_TOO_LARGE'
  | 'HEC_CLOSED';

/** Everything the HEC sink reports; `details` names the URL, HTTP status and HEC reply code. */
export class HecError extends ConnectorError {
  declare readonly code: HecErrorCode;

  constructor(
    code: HecErrorCode,
    message: string,
    options: { cause?: unknown; details?: ErrorDetails } = {},
  ) {
    super(code, message, options);
  }
}
