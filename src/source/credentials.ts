import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import type { AwsConfig } from '../config/index.js';
import { awsHttpOptions } from '../network/index.js';
import type { SourceRoleConfig } from './config.js';

export type CredentialsProvider = ReturnType<typeof fromTemporaryCredentials>;

/**
 * Credentials of the source's role, when one is configured: assumed through STS with the connector's own
 * credentials and renewed before they expire. Undefined: the SDK's default chain, as for every other client.
 */
export function sourceRoleCredentials(
  aws: AwsConfig,
  role: SourceRoleConfig | undefined,
): CredentialsProvider | undefined {
  if (!role) return undefined;
  return fromTemporaryCredentials({
    params: {
      RoleArn: role.roleArn,
      RoleSessionName: role.sessionName,
      ...(role.externalId ? { ExternalId: role.externalId } : {}),
    },
    clientConfig: {
      region: aws.region,
      ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
      ...awsHttpOptions(),
    },
  });
}
