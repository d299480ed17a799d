import { toEcs } from '../../../src/map/ecs/index.js';
import type { RawRecord } from '../../../src/types.js';

/** A failed console sign-in as CloudTrail records it: fires the bundled console-login-failure rule. */
export function failedConsoleLogin(
  eventID: string,
  eventTime = '2026-01-01T00:00:00Z',
): Record<string, unknown> {
  return {
    eventVersion: '1.08',
    eventTime,
    eventID,
    awsRegion: 'us-east-1',
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    eventType: 'AwsConsoleSignIn',
    sourceIPAddress: '203.0.113.50',
    recipientAccountId: '111122223333',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDA',
      accountId: '111122223333',
      userName: 'alice',
      arn: 'arn:aws:iam::111122223333:user/alice',
    },
    responseElements: { ConsoleLogin: 'Failure' },
    errorMessage: 'Failed authentication',
  };
}

/** The same as the decoder hands it on (`n` numbers the event and the record). */
export function failedConsoleLoginRecord(n: number): RawRecord {
  return {
    logType: 'cloudtrail',
    origin: { bucket: 'b', key: 'k', record: n },
    event: failedConsoleLogin(`e${n}`),
  };
}

/** The same as the ECS document the pipeline makes of it. */
export function failedConsoleLoginDoc(n: number): Record<string, unknown> {
  return toEcs(failedConsoleLoginRecord(n)) as Record<string, unknown>;
}
