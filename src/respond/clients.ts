import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import type { AwsConfig } from '../config/index.js';
import { awsHttpOptions } from '../network/index.js';
import type { RespondConfig } from './config.js';

/** Static credentials, for tests against a local endpoint; real deployments use the SDK's default chain. */
export interface StaticCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ResponseClients {
  waf: WAFV2Client;
  iam: IAMClient;
  ec2: EC2Client;
  autoScaling: AutoScalingClient;
  /** The action store, when `respond.stateS3` is set. */
  s3: S3Client;
}

/**
 * SDK clients for the responders. Throttling is retried by the SDK's standard strategy (exponential
 * back-off with jitter); five attempts instead of three because containment should ride out a burst.
 */
export function createResponseClients(
  aws: AwsConfig,
  respond: Pick<RespondConfig, 'waf'>,
  credentials?: StaticCredentials,
): ResponseClients {
  // A function: each client gets its own request handler (a client's destroy() closes its handler).
  const common = () => ({
    ...awsHttpOptions(),
    region: aws.region,
    maxAttempts: 5,
    retryMode: 'standard',
    ...(aws.endpoint ? { endpoint: aws.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  return {
    // CloudFront-scoped IP sets are managed through us-east-1 only.
    waf: new WAFV2Client({
      ...common(),
      region: respond.waf.scope === 'CLOUDFRONT' ? 'us-east-1' : aws.region,
    }),
    iam: new IAMClient(common()),
    ec2: new EC2Client(common()),
    autoScaling: new AutoScalingClient(common()),
    s3: new S3Client({ ...common(), forcePathStyle: aws.forcePathStyle }),
  };
}
