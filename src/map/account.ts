import type { RawRecord } from '../types.js';
import { flowAccountOfKey } from './flow-region.js';

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * The AWS account whose log a record is, for routing it to that account's index or data stream: a trail's
 * recipient (for an organization trail, the member account; else the caller's own account), a flow's
 * `account-id`, else the account its delivery key names.
 */
export function recordAccount(record: RawRecord): string | undefined {
  if (record.logType === 'cloudtrail') {
    const identity = record.event.userIdentity;
    const caller =
      typeof identity === 'object' && identity !== null ? (identity as Record<string, unknown>) : {};
    return text(record.event.recipientAccountId) ?? text(caller.accountId);
  }
  return record.fields['account-id'] ?? flowAccountOfKey(record.origin.key);
}
