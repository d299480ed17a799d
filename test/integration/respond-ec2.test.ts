import {
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { AddRoleToInstanceProfileCommand, CreateInstanceProfileCommand } from '@aws-sdk/client-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { createEc2Role, liveRunner, motoClients, runId } from './respond-helpers.js';

const { clients } = motoClients();
const requester = { source: 'webhook:kibana', rule: 'EC2 Instance Credentials Used Outside AWS' };
const quarantineGroupName = `asc-quarantine-${runId}`;
let imageId = '';
let vpcId = '';

beforeAll(async () => {
  const images = await clients.ec2.send(new DescribeImagesCommand({}));
  imageId = images.Images![0]!.ImageId!;
  const vpcs = await clients.ec2.send(
    new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }),
  );
  vpcId = vpcs.Vpcs![0]!.VpcId!;
});

async function launch(name: string, tags: Record<string, string> = {}, instanceProfileArn?: string) {
  const group = await clients.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: `${name}-${runId}`, Description: 'web', VpcId: vpcId }),
  );
  const run = await clients.ec2.send(
    new RunInstancesCommand({
      ImageId: imageId,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: 't3.micro',
      SecurityGroupIds: [group.GroupId!],
      ...(instanceProfileArn ? { IamInstanceProfile: { Arn: instanceProfileArn } } : {}),
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: Object.entries({ Name: name, ...tags }).map(([Key, Value]) => ({ Key, Value })),
        },
      ],
    }),
  );
  const instance = run.Instances![0]!;
  return {
    instanceId: instance.InstanceId!,
    groupId: group.GroupId!,
    eniId: instance.NetworkInterfaces![0]!.NetworkInterfaceId!,
  };
}

/** Whether the interface's own group list holds the group (moto's ENI view also unions the instance's launch groups). */
async function eniHasGroup(eniId: string, groupId: string): Promise<boolean> {
  const out = await clients.ec2.send(
    new DescribeNetworkInterfacesCommand({
      Filters: [
        { Name: 'network-interface-id', Values: [eniId] },
        { Name: 'group-id', Values: [groupId] },
      ],
    }),
  );
  return (out.NetworkInterfaces ?? []).length === 1;
}

async function terminationProtected(instanceId: string): Promise<boolean> {
  const out = await clients.ec2.send(
    new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
  );
  return out.DisableApiTermination?.Value === true;
}

async function tags(instanceId: string): Promise<Record<string, string>> {
  const out = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return Object.fromEntries((out.Reservations![0]!.Instances![0]!.Tags ?? []).map((t) => [t.Key!, t.Value!]));
}

describe('EC2 isolate against moto', () => {
  it('snapshots, protects, swaps to a rule-less quarantine group, tags; undo restores', async () => {
    const { instanceId, groupId, eniId } = await launch('web');
    const { runner } = liveRunner({ ec2: { quarantineGroupName } });
    const applied = await runner.run({
      action: 'ec2-isolate',
      target: instanceId,
      alertId: 'iso-1',
      requester,
      mode: 'auto',
    });
    expect(applied.status, applied.reason).toBe('applied');

    const groups = await clients.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'group-name', Values: [quarantineGroupName] },
          { Name: 'vpc-id', Values: [vpcId] },
        ],
      }),
    );
    const quarantine = groups.SecurityGroups![0]!;
    expect(quarantine.IpPermissions).toEqual([]);
    expect(quarantine.IpPermissionsEgress).toEqual([]);
    expect(await eniHasGroup(eniId, quarantine.GroupId!)).toBe(true);
    expect(await eniHasGroup(eniId, groupId)).toBe(false);
    expect(await terminationProtected(instanceId)).toBe(true);
    expect(await tags(instanceId)).toMatchObject({ 'asc:quarantine-alert': 'iso-1' });
    const snapshots = await clients.ec2.send(
      new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:asc:quarantine-alert', Values: ['iso-1'] }] }),
    );
    expect((snapshots.Snapshots ?? []).length).toBeGreaterThan(0);

    expect(
      (
        await runner.run({
          action: 'ec2-isolate',
          target: instanceId,
          alertId: 'iso-1',
          requester,
          mode: 'auto',
        })
      ).status,
    ).toBe('skipped');
    expect(
      (
        await runner.run({
          action: 'ec2-isolate',
          target: instanceId,
          alertId: 'iso-2',
          requester,
          mode: 'auto',
        })
      ).status,
    ).toBe('unchanged');

    const undone = await runner.undo('ec2-isolate', instanceId, { source: 'cli' });
    expect(undone.status).toBe('undone');
    expect(await eniHasGroup(eniId, groupId)).toBe(true);
    expect(await eniHasGroup(eniId, quarantine.GroupId!)).toBe(false);
    expect(await terminationProtected(instanceId)).toBe(false);
    expect(await tags(instanceId)).not.toHaveProperty('asc:quarantine-alert');
  });

  it('refuses an instance with a protected tag and leaves it untouched', async () => {
    const { instanceId, groupId, eniId } = await launch('db', { 'asc:protected': 'true' });
    const { runner } = liveRunner({ ec2: { quarantineGroupName } });
    const outcome = await runner.run({
      action: 'ec2-isolate',
      target: instanceId,
      alertId: 'iso-p',
      requester,
      mode: 'auto',
    });
    expect(outcome).toMatchObject({ status: 'refused', reason: expect.stringContaining('protected tag') });
    expect(await eniHasGroup(eniId, groupId)).toBe(true);
    expect(await terminationProtected(instanceId)).toBe(false);
  });

  it('plans without changing anything', async () => {
    const { instanceId, groupId, eniId } = await launch('plan');
    const { runner } = liveRunner({ ec2: { quarantineGroupName: `${quarantineGroupName}-plan` } });
    const plan = await runner.run({
      action: 'ec2-isolate',
      target: instanceId,
      alertId: 'iso-plan',
      requester,
      mode: 'plan',
    });
    expect(plan.status).toBe('planned');
    expect(plan.changes.join('\n')).toContain(`create security group ${quarantineGroupName}-plan`);
    expect(await eniHasGroup(eniId, groupId)).toBe(true);
    const groups = await clients.ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [{ Name: 'group-name', Values: [`${quarantineGroupName}-plan`] }],
      }),
    );
    expect(groups.SecurityGroups).toEqual([]);
    // What the plan announced is what is done and audited, step for step.
    const applied = await runner.run({
      action: 'ec2-isolate',
      target: instanceId,
      alertId: 'iso-plan',
      requester,
      mode: 'auto',
    });
    expect(applied.status, applied.reason).toBe('applied');
    expect(applied.changes).toEqual(plan.changes);
  });

  it('isolates the instance a role session names only when the role is the instance profile’s own', async () => {
    const role = `web-role-${runId}`;
    await createEc2Role(clients, role);
    const profile = await clients.iam.send(
      new CreateInstanceProfileCommand({ InstanceProfileName: `web-profile-${runId}` }),
    );
    await clients.iam.send(
      new AddRoleToInstanceProfileCommand({ InstanceProfileName: `web-profile-${runId}`, RoleName: role }),
    );
    const { instanceId, groupId, eniId } = await launch('session', {}, profile.InstanceProfile!.Arn!);
    const { runner } = liveRunner({ ec2: { quarantineGroupName } });
    const isolate = (target: string, alertId: string) =>
      runner.run({ action: 'ec2-isolate', target, alertId, requester, mode: 'auto' });

    // Anyone who can call AssumeRole chooses the session name: another role, or another account, proves nothing.
    const forged = await isolate(`arn:aws:sts::123456789012:assumed-role/any-role/${instanceId}`, 'sess-1');
    expect(forged).toMatchObject({ status: 'refused', reason: expect.stringContaining('instance profile') });
    const foreign = await isolate(`arn:aws:sts::999999999999:assumed-role/${role}/${instanceId}`, 'sess-2');
    expect(foreign).toMatchObject({ status: 'refused', reason: expect.stringContaining('999999999999') });
    expect(await eniHasGroup(eniId, groupId)).toBe(true);

    const real = await isolate(`arn:aws:sts::123456789012:assumed-role/${role}/${instanceId}`, 'sess-3');
    expect(real.status, real.reason).toBe('applied');
    expect(await eniHasGroup(eniId, groupId)).toBe(false);
    await runner.undo('ec2-isolate', instanceId, { source: 'cli' });
  });

  it('strips the rules from an existing quarantine group before using it', async () => {
    const name = `${quarantineGroupName}-stray`;
    // A half-made quarantine group keeps the allow-all outbound rule every new VPC group starts with.
    const stray = await clients.ec2.send(
      new CreateSecurityGroupCommand({ GroupName: name, Description: 'half made', VpcId: vpcId }),
    );
    const { instanceId } = await launch('stray');
    const { runner } = liveRunner({ ec2: { quarantineGroupName: name } });
    const outcome = await runner.run({
      action: 'ec2-isolate',
      target: instanceId,
      alertId: 'iso-stray',
      requester,
      mode: 'auto',
    });
    expect(outcome.status, outcome.reason).toBe('applied');
    expect(outcome.changes.join('\n')).toContain(`rule(s) from security group ${stray.GroupId}`);
    const after = await clients.ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [stray.GroupId!] }));
    expect(after.SecurityGroups![0]!.IpPermissions).toEqual([]);
    expect(after.SecurityGroups![0]!.IpPermissionsEgress).toEqual([]);
  });

  it('detaches an instance from its Auto Scaling group, so the group cannot terminate the evidence, and undo attaches it again', async () => {
    const subnets = await clients.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }),
    );
    const template = `asg-template-${runId}`;
    await clients.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: template,
        LaunchTemplateData: { ImageId: imageId, InstanceType: 't3.micro' },
      }),
    );
    const group = `asg-${runId}`;
    await clients.autoScaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: group,
        LaunchTemplate: { LaunchTemplateName: template },
        MinSize: 1,
        MaxSize: 3,
        DesiredCapacity: 1,
        VPCZoneIdentifier: subnets.Subnets![0]!.SubnetId!,
      }),
    );
    const members = async () =>
      (
        await clients.autoScaling.send(
          new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
        )
      ).AutoScalingGroups![0]!.Instances!.map((i) => i.InstanceId!);
    const [instanceId] = await members();
    const { runner } = liveRunner({ ec2: { quarantineGroupName } });
    const applied = await runner.run({
      action: 'ec2-isolate',
      target: instanceId!,
      alertId: 'iso-asg',
      requester,
      mode: 'auto',
    });
    expect(applied.status, applied.reason).toBe('applied');
    expect(applied.changes.join('\n')).toContain(`detach ${instanceId} from Auto Scaling group ${group}`);
    const after = await clients.autoScaling.send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId!] }),
    );
    expect(after.AutoScalingInstances ?? []).toEqual([]);
    expect(await members()).not.toContain(instanceId);

    const undone = await runner.undo('ec2-isolate', instanceId!, { source: 'cli' });
    expect(undone.status).toBe('undone');
    expect(await members()).toContain(instanceId);
  });
});
