import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lintCloudFormation, lintPolicyDocument, lintTerraform, loadCloudFormation } from './policy-lint.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const cfnTemplates = ['deploy/cloudformation/template.yaml', 'deploy/container/ecs-fargate.yaml'];

describe('IAM policy linter on the shipped templates', () => {
  it.each(cfnTemplates)('%s grants no wildcard action and no unscoped resource', (rel) => {
    expect(lintCloudFormation(loadCloudFormation(path.join(repo, rel)), rel)).toEqual([]);
  });

  it('the Terraform module grants no wildcard action and no unscoped resource', () => {
    expect(lintTerraform(path.join(repo, 'deploy/terraform'))).toEqual([]);
  });
});

describe('IAM policy linter catches what it must', () => {
  const template = () => loadCloudFormation(path.join(repo, 'deploy/cloudformation/template.yaml')) as any;

  it('rejects a wildcard action planted in the consumer role', () => {
    const t = template();
    t.Resources.ConsumerRole.Properties.Policies[0].PolicyDocument.Statement.push({
      Sid: 'Planted',
      Effect: 'Allow',
      Action: 's3:*',
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${LogBucketName}/*' },
    });
    const findings = lintCloudFormation(t, 'planted.yaml');
    expect(findings).toHaveLength(1);
    expect(findings[0]!.problem).toBe('wildcard action "s3:*"');
    expect(findings[0]!.where).toContain('ConsumerRole');
  });

  it('rejects "*" alone, partial wildcards and NotAction', () => {
    const doc = {
      Statement: [
        { Sid: 'a', Effect: 'Allow', Action: '*', Resource: 'arn:aws:sqs:us-east-1:111111111111:q' },
        { Sid: 'b', Effect: 'Allow', Action: ['sqs:Get*'], Resource: 'arn:aws:sqs:us-east-1:111111111111:q' },
        {
          Sid: 'c',
          Effect: 'Allow',
          NotAction: 'iam:CreateUser',
          Resource: 'arn:aws:iam::111111111111:user/x',
        },
      ],
    };
    expect(lintPolicyDocument(doc, 'f', 'doc').map((f) => f.problem)).toEqual([
      'wildcard action "*"',
      'wildcard action "sqs:Get*"',
      'NotAction in an Allow statement',
    ]);
  });

  it('rejects unscoped resources but allows "*" for actions that have no resource-level permissions', () => {
    const doc = {
      Statement: [
        { Sid: 'star', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
        { Sid: 'any-bucket', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::*' },
        {
          Sid: 'any-account',
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: 'arn:aws:sqs:us-east-1:*:q',
        },
        { Sid: 'describe', Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
        {
          Sid: 'mixed',
          Effect: 'Allow',
          Action: ['ec2:DescribeInstances', 'ec2:TerminateInstances'],
          Resource: '*',
        },
        { Sid: 'deny', Effect: 'Deny', Action: '*', Resource: '*' },
      ],
    };
    expect(lintPolicyDocument(doc, 'f', 'doc').map((f) => `${f.where}: ${f.problem}`)).toEqual([
      'doc statement star: unscoped resource "*"',
      'doc statement any-bucket: unscoped resource "arn:aws:s3:::*"',
      'doc statement any-account: unscoped resource "arn:aws:sqs:us-east-1:*:q"',
      'doc statement mixed: unscoped resource "*"',
    ]);
  });

  it('lets only account-less resource types (EBS snapshots) go without an account, and never without a region', () => {
    const doc = {
      Statement: [
        {
          Sid: 'snap',
          Effect: 'Allow',
          Action: 'ec2:CreateSnapshots',
          Resource: 'arn:aws:ec2:us-east-1::snapshot/*',
        },
        {
          Sid: 'snap-sub',
          Effect: 'Allow',
          Action: 'ec2:CreateSnapshots',
          Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:ec2:${AWS::Region}::snapshot/*' },
        },
        {
          Sid: 'snap-any-region',
          Effect: 'Allow',
          Action: 'ec2:CreateTags',
          Resource: 'arn:aws:ec2:*::snapshot/*',
        },
        {
          Sid: 'instance',
          Effect: 'Allow',
          Action: 'ec2:CreateTags',
          Resource: 'arn:aws:ec2:us-east-1::instance/*',
        },
        { Sid: 'asg', Effect: 'Allow', Action: 'autoscaling:DescribeAutoScalingInstances', Resource: '*' },
      ],
    };
    expect(lintPolicyDocument(doc, 'f', 'doc').map((f) => `${f.where}: ${f.problem}`)).toEqual([
      'doc statement snap-any-region: unscoped resource "arn:aws:ec2:*::snapshot/*"',
      'doc statement instance: unscoped resource "arn:aws:ec2:us-east-1::instance/*"',
    ]);
  });

  it('checks both branches of Fn::If', () => {
    const doc = {
      Statement: [
        {
          'Fn::If': [
            'Cond',
            { Effect: 'Allow', Action: 'kms:*', Resource: 'arn:aws:kms:us-east-1:1:key/k' },
            { Ref: 'AWS::NoValue' },
          ],
        },
      ],
    };
    expect(lintPolicyDocument(doc, 'f', 'doc')).toHaveLength(1);
  });
});
