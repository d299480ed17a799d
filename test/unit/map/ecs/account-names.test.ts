import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../../src/config/index.js';
import { toEcs } from '../../../../src/map/ecs/index.js';
import type { RawRecord } from '../../../../src/types.js';

const origin = { bucket: 'b', key: 'k', record: 1 };
const trail: RawRecord = {
  logType: 'cloudtrail',
  origin,
  event: {
    eventTime: '2026-11-29T06:00:00Z',
    eventSource: 'iam.amazonaws.com',
    eventName: 'ListUsers',
    awsRegion: 'us-east-1',
    userIdentity: { type: 'IAMUser', accountId: '111122223333', userName: 'alice' },
  },
};
const flow: RawRecord = {
  logType: 'vpcflow',
  origin,
  fields: { version: '2', 'account-id': '444455556666', 'log-status': 'NODATA' },
  line: '2 444455556666 NODATA',
};
const account = (record: RawRecord, names?: Record<string, string>) =>
  (toEcs(record, names ? { accountNames: names } : {}) as { cloud: { account?: Record<string, string> } })
    .cloud.account;

describe('mapping.accountNames', () => {
  it('names the account beside its id in trails and flows', () => {
    const names = { '111122223333': 'prod-payments', '444455556666': 'shared-network' };
    expect(account(trail, names)).toEqual({ id: '111122223333', name: 'prod-payments' });
    expect(account(flow, names)).toEqual({ id: '444455556666', name: 'shared-network' });
  });

  it('leaves an account it has no name for, and every account without the setting, as it was', () => {
    expect(account(trail, { '999999999999': 'other' })).toEqual({ id: '111122223333' });
    expect(account(trail)).toEqual({ id: '111122223333' });
  });

  it('comes from ASC_ACCOUNT_NAMES as account=name pairs, refusing what is not an account id', () => {
    const config = loadConfig({
      env: { ASC_ACCOUNT_NAMES: '111122223333=prod-payments,444455556666=shared' },
    });
    expect(config.mapping.accountNames).toEqual({
      '111122223333': 'prod-payments',
      '444455556666': 'shared',
    });
    expect(() => loadConfig({ env: { ASC_ACCOUNT_NAMES: 'prod=prod-payments' } })).toThrow(
      /mapping\.accountNames\.prod \(from ASC_ACCOUNT_NAMES\): Invalid key/,
    );
  });
});
