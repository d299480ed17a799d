import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CloudFormationClient,
  CreateStackCommand,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { GetRoleCommand, GetRolePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetBucketNotificationConfigurationCommand,
  type NotificationConfiguration,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetMoto, serviceEndpoints } from '../services/endpoints.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const region = 'us-east-1';
const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

/** The CLI's JSON (QueueArn, Filter.Key.FilterRules) in the SDK's shape. */
function s3NotificationFromCli(json: string): NotificationConfiguration {
  const cli = JSON.parse(json) as {
    QueueConfigurations: {
      Id: string;
      QueueArn: string;
      Events: string[];
      Filter: { Key: { FilterRules: { Name: string; Value: string }[] } };
    }[];
  };
  return {
    QueueConfigurations: cli.QueueConfigurations.map((q) => ({
      Id: q.Id,
      QueueArn: q.QueueArn,
      Events: q.Events as never,
      Filter: { Key: { FilterRules: q.Filter.Key.FilterRules as never } },
    })),
  };
}

/** moto returns CloudFormation-created inline role policies as a Python dict repr rather than JSON. */
function lenientJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(
      text
        .replace(/'/g, '"')
        .replace(/\bTrue\b/g, 'true')
        .replace(/\bFalse\b/g, 'false')
        .replace(/\bNone\b/g, 'null'),
    );
  }
}

describe('the CloudFormation template deployed into moto', () => {
  const stackName = 'asc-deploy-test';
  const logBucket = 'asc-deploy-test-logs';
  // A log-archive account's role the consumer reads the objects through.
  const sourceRole = 'arn:aws:iam::111111111111:role/log-reader';
  let endpoint: string;
  let cfn: CloudFormationClient;
  let outputs: Record<string, string>;
  let resources: Record<string, string>;

  beforeAll(async () => {
    endpoint = serviceEndpoints().moto.url;
    await resetMoto(endpoint);
    const s3 = new S3Client({ region, endpoint, credentials, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'asc-code' }));
    // The common case: the log bucket exists already, and the stack outputs the one notification step.
    await s3.send(new CreateBucketCommand({ Bucket: logBucket }));
    // moto checks that the Lambda package exists; a minimal zip (empty archive) is enough to create the function.
    const emptyZip = Buffer.from([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);
    await s3.send(new PutObjectCommand({ Bucket: 'asc-code', Key: 'pkg.zip', Body: emptyZip }));

    cfn = new CloudFormationClient({ region, endpoint, credentials });
    await cfn.send(
      new CreateStackCommand({
        StackName: stackName,
        TemplateBody: readFileSync(path.join(repo, 'deploy/cloudformation/template.yaml'), 'utf8'),
        Capabilities: ['CAPABILITY_IAM'],
        Parameters: [
          { ParameterKey: 'LogBucketName', ParameterValue: logBucket },
          { ParameterKey: 'CreateLogBucket', ParameterValue: 'false' },
          { ParameterKey: 'CodeS3Bucket', ParameterValue: 'asc-code' },
          { ParameterKey: 'CodeS3Key', ParameterValue: 'pkg.zip' },
          { ParameterKey: 'DeployWebhook', ParameterValue: 'false' },
          { ParameterKey: 'MaxReceiveCount', ParameterValue: '4' },
          { ParameterKey: 'SourceRoleArn', ParameterValue: sourceRole },
        ],
      }),
    );
    let status = '';
    for (let i = 0; i < 60; i++) {
      const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
      status = Stacks?.[0]?.StackStatus ?? '';
      outputs = Object.fromEntries((Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey!, o.OutputValue!]));
      if (!status.endsWith('IN_PROGRESS')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(status).toBe('CREATE_COMPLETE');
    const { StackResources } = await cfn.send(new DescribeStackResourcesCommand({ StackName: stackName }));
    resources = Object.fromEntries(
      (StackResources ?? []).map((r) => [r.LogicalResourceId!, r.PhysicalResourceId!]),
    );
  }, 120_000);

  it('creates the queue with a redrive policy to the dead-letter queue', async () => {
    const sqs = new SQSClient({ region, endpoint, credentials });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${stackName}-notifications` }));
    const { QueueUrl: dlqUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${stackName}-dlq` }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }),
    );
    const { Attributes: dlq } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
    );
    const redrive = JSON.parse(Attributes!.RedrivePolicy!);
    expect(redrive.deadLetterTargetArn).toBe(dlq!.QueueArn);
    expect(Number(redrive.maxReceiveCount)).toBe(4);
    expect(Number(Attributes!.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * 300);
    // moto's CloudFormation does not apply AWS::SQS::QueuePolicy; the policy is checked whenever it does.
    if (Attributes!.Policy) {
      const st = JSON.parse(Attributes!.Policy).Statement[0];
      expect(st.Principal).toEqual({ Service: 's3.amazonaws.com' });
      expect(st.Condition.ArnLike['aws:SourceArn']).toBe(`arn:aws:s3:::${logBucket}`);
    }
    expect(outputs.NotificationQueueArn).toBe(Attributes!.QueueArn);
  });

  it('the documented notification step routes new log objects under the prefix to the queue', async () => {
    const s3 = new S3Client({ region, endpoint, credentials, forcePathStyle: true });
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: logBucket,
        NotificationConfiguration: s3NotificationFromCli(outputs.BucketNotificationConfiguration!),
      }),
    );
    const n = await s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: logBucket }));
    expect(n.QueueConfigurations).toHaveLength(1);
    const q = n.QueueConfigurations![0]!;
    expect(q.QueueArn).toBe(outputs.NotificationQueueArn);
    expect(q.Events).toEqual(['s3:ObjectCreated:*']);
    expect(
      q.Filter?.Key?.FilterRules?.map((r) => [r.Name?.toLowerCase(), r.Value]),
      JSON.stringify(q),
    ).toEqual([['prefix', 'AWSLogs/']]);

    const sqs = new SQSClient({ region, endpoint, credentials });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: `${stackName}-notifications` }));
    await sqs.send(new PurgeQueueCommand({ QueueUrl })); // drops the s3:TestEvent
    await s3.send(new PutObjectCommand({ Bucket: logBucket, Key: 'elsewhere/x.json.gz', Body: 'x' }));
    await s3.send(
      new PutObjectCommand({
        Bucket: logBucket,
        Key: 'AWSLogs/111111111111/CloudTrail/x.json.gz',
        Body: 'x',
      }),
    );
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    );
    const keys = (Messages ?? []).flatMap((m) =>
      (JSON.parse(m.Body!).Records ?? []).map((r: any) =>
        decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')),
      ),
    );
    expect(keys).toEqual(['AWSLogs/111111111111/CloudTrail/x.json.gz']);
  });

  it('creates the consumer role trusted by Lambda with only scoped permissions', async () => {
    const iam = new IAMClient({ region, endpoint, credentials });
    const roleName = resources.ConsumerRole!.split('/').pop()!;
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    const trust = JSON.parse(decodeURIComponent(Role!.AssumeRolePolicyDocument!));
    expect(trust.Statement[0].Principal.Service).toBe('lambda.amazonaws.com');
    const { PolicyDocument } = await iam.send(
      new GetRolePolicyCommand({ RoleName: roleName, PolicyName: 'consumer' }),
    );
    const doc = lenientJson(decodeURIComponent(PolicyDocument!));
    doc.Statement = doc.Statement.filter(Boolean); // AWS::NoValue branches come back as null
    const bySid = Object.fromEntries(doc.Statement.map((s: { Sid: string }) => [s.Sid, s]));
    expect(bySid.ConsumeNotifications.Resource).toBe(outputs.NotificationQueueArn);
    expect(bySid.ReadLogObjects.Resource).toBe(`arn:aws:s3:::${logBucket}/AWSLogs/*`);
    expect(bySid.AssumeSourceRole).toMatchObject({ Action: 'sts:AssumeRole', Resource: sourceRole });
    for (const s of doc.Statement) for (const a of [s.Action].flat()) expect(a).not.toContain('*');
  });

  it('outputs the one CLI step for an existing bucket', () => {
    expect(outputs.BucketNotificationCommand).toContain(`--bucket ${logBucket}`);
    expect(JSON.parse(outputs.BucketNotificationConfiguration!).QueueConfigurations[0].QueueArn).toBe(
      outputs.NotificationQueueArn,
    );
  });
});
