import {
  AttachInstancesCommand,
  type AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateSecurityGroupCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import type { RespondConfig } from './config.js';
import { ActionRefusedError } from './errors.js';
import type { ApplyResult, PlanContext, Responder, ResponderPlan, UndoResult } from './types.js';

export interface Ec2PlanDetail {
  instanceId: string;
  vpcId: string;
  /** Security groups per network interface, as they are now. */
  interfaces: { id: string; groups: string[] }[];
  quarantineGroupId: string | undefined;
  terminationProtected: boolean;
  autoScalingGroup: string | undefined;
  volumeCount: number;
  /** Goes into the instance's and snapshots' tags. */
  alertId: string;
}

export interface Ec2Prior {
  instanceId: string;
  interfaces: { id: string; groups: string[] }[];
  quarantineGroupId: string;
  enabledTerminationProtection: boolean;
  detachedFrom: string | undefined;
  snapshotIds: string[];
  taggedKeys: string[];
}

export interface Ec2ResponderOptions {
  ec2: EC2Client;
  autoScaling?: AutoScalingClient | undefined;
  config: RespondConfig['ec2'];
  now?: () => Date;
}

const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const TAG_ALERT = 'asc:quarantine-alert';
const TAG_TIME = 'asc:quarantined-at';

/**
 * Isolates an instance the way AWS's ContainEC2Instance runbook does: record the groups of every
 * network interface, snapshot the volumes, protect from termination, then swap every interface to a
 * quarantine group with no rules in either direction; undo puts the recorded groups back.
 */
export class Ec2IsolateResponder implements Responder<Ec2PlanDetail, Ec2Prior> {
  readonly action = 'ec2-isolate' as const;
  readonly #ec2: EC2Client;
  readonly #asg: AutoScalingClient | undefined;
  readonly #config: RespondConfig['ec2'];
  readonly #now: () => Date;

  constructor(options: Ec2ResponderOptions) {
    this.#ec2 = options.ec2;
    this.#asg = options.autoScaling;
    this.#config = options.config;
    this.#now = options.now ?? (() => new Date());
  }

  normalise(target: string): string {
    // An instance role session's ARN ends in the instance id (CloudTrail userIdentity.arn of stolen
    // instance credentials), so alerts about such sessions can name the instance directly.
    const session = /^arn:aws[\w-]*:sts::\d{12}:assumed-role\/[^/]+\/(i-[0-9a-f]+)$/.exec(target.trim());
    const id = (session?.[1] ?? target).trim().toLowerCase();
    if (!INSTANCE_ID.test(id))
      throw new ActionRefusedError(`"${target.slice(0, 64)}" is not an EC2 instance id`, { target });
    return id;
  }

  async plan(target: string, context: PlanContext = {}): Promise<ResponderPlan<Ec2PlanDetail>> {
    const instanceId = this.normalise(target);
    let instance: Awaited<ReturnType<Ec2IsolateResponder['describe']>>;
    try {
      instance = await this.describe(instanceId);
    } catch (err) {
      if ((err as Error).name?.startsWith('InvalidInstanceID'))
        throw new ActionRefusedError(`instance ${instanceId} does not exist`);
      throw err;
    }
    if (!instance) throw new ActionRefusedError(`instance ${instanceId} does not exist`);
    const state = instance.State?.Name;
    if (state === 'terminated' || state === 'shutting-down') {
      throw new ActionRefusedError(`instance ${instanceId} is ${state}`);
    }
    const protectedTag = (instance.Tags ?? []).find(
      (t) => t.Key && this.#config.protectedTagKeys.includes(t.Key),
    );
    if (protectedTag)
      throw new ActionRefusedError(`instance ${instanceId} carries the protected tag ${protectedTag.Key}`);
    const vpcId = instance.VpcId;
    if (!vpcId) throw new ActionRefusedError(`instance ${instanceId} is not in a VPC`);
    const interfaces = (instance.NetworkInterfaces ?? []).map((eni) => ({
      id: eni.NetworkInterfaceId ?? '',
      groups: (eni.Groups ?? []).map((g) => g.GroupId ?? '').filter(Boolean),
    }));
    if (interfaces.length === 0)
      throw new ActionRefusedError(`instance ${instanceId} has no network interface`);
    const quarantineGroupId = await this.#findQuarantineGroup(vpcId);
    const attr = await this.#ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
    );
    const terminationProtected = attr.DisableApiTermination?.Value === true;
    let autoScalingGroup: string | undefined;
    if (this.#config.detachFromAsg && this.#asg) {
      const out = await this.#asg.send(
        new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
      );
      autoScalingGroup = out.AutoScalingInstances?.[0]?.AutoScalingGroupName;
    }
    const volumeCount = (instance.BlockDeviceMappings ?? []).filter((b) => b.Ebs?.VolumeId).length;
    // Isolated = every interface holds the quarantine group and the instance carries our tag. Requiring
    // "only the quarantine group" would be stricter, but some EC2 views (and emulators) report an attached
    // interface's groups merged with the instance's launch groups; and groups a person added back after
    // isolation are a deliberate decision that a repeated alert should not overrule.
    const tagged = (instance.Tags ?? []).some((t) => t.Key === TAG_ALERT);
    const isolated =
      quarantineGroupId !== undefined &&
      tagged &&
      interfaces.every((eni) => eni.groups.includes(quarantineGroupId));
    const changes: string[] = [];
    if (!isolated) {
      if (!quarantineGroupId)
        changes.push(`create security group ${this.#config.quarantineGroupName} in ${vpcId} with no rules`);
      if (this.#config.snapshot && volumeCount > 0)
        changes.push(`snapshot ${volumeCount} EBS volume(s) of ${instanceId}`);
      if (this.#config.terminationProtection && !terminationProtected)
        changes.push(`enable termination protection on ${instanceId}`);
      if (autoScalingGroup) changes.push(`detach ${instanceId} from Auto Scaling group ${autoScalingGroup}`);
      for (const eni of interfaces) {
        changes.push(
          `replace groups [${eni.groups.join(', ')}] of ${eni.id} with ${this.#config.quarantineGroupName}`,
        );
      }
      changes.push(`tag ${instanceId} with ${TAG_ALERT} and ${TAG_TIME}`);
    }
    return {
      action: this.action,
      target: instanceId,
      changes,
      warnings: isolated
        ? []
        : [
            'connections already open may survive a security-group change (connection tracking); see the playbook',
          ],
      detail: {
        instanceId,
        vpcId,
        interfaces,
        quarantineGroupId,
        terminationProtected,
        autoScalingGroup,
        volumeCount,
        alertId: context.alertId ?? 'manual',
      },
    };
  }

  async apply(plan: ResponderPlan<Ec2PlanDetail>): Promise<ApplyResult<Ec2Prior>> {
    const d = plan.detail;
    const requestIds: string[] = [];
    const track = (out: { $metadata: { requestId?: string } }) => {
      if (out.$metadata.requestId) requestIds.push(out.$metadata.requestId);
    };
    if (plan.changes.length === 0) {
      return {
        changes: [],
        requestIds,
        prior: {
          instanceId: d.instanceId,
          interfaces: [],
          quarantineGroupId: d.quarantineGroupId ?? '',
          enabledTerminationProtection: false,
          detachedFrom: undefined,
          snapshotIds: [],
          taggedKeys: [],
        },
      };
    }
    const now = this.#now().toISOString();
    const prior: Ec2Prior = {
      instanceId: d.instanceId,
      interfaces: d.interfaces,
      quarantineGroupId: d.quarantineGroupId ?? (await this.#createQuarantineGroup(d.vpcId, track)),
      enabledTerminationProtection: false,
      detachedFrom: undefined,
      snapshotIds: [],
      taggedKeys: [],
    };
    // Evidence before containment: snapshot and protect, then cut the network.
    if (this.#config.snapshot && d.volumeCount > 0) {
      const out = await this.#ec2.send(
        new CreateSnapshotsCommand({
          InstanceSpecification: { InstanceId: d.instanceId, ExcludeBootVolume: false },
          Description: `aws-siem-connector quarantine of ${d.instanceId} (alert ${d.alertId})`,
          TagSpecifications: [
            {
              ResourceType: 'snapshot',
              Tags: [
                { Key: TAG_ALERT, Value: d.alertId },
                { Key: TAG_TIME, Value: now },
              ],
            },
          ],
        }),
      );
      track(out);
      prior.snapshotIds = (out.Snapshots ?? []).map((s) => s.SnapshotId ?? '').filter(Boolean);
    }
    if (this.#config.terminationProtection && !d.terminationProtected) {
      track(
        await this.#ec2.send(
          new ModifyInstanceAttributeCommand({
            InstanceId: d.instanceId,
            DisableApiTermination: { Value: true },
          }),
        ),
      );
      prior.enabledTerminationProtection = true;
    }
    if (d.autoScalingGroup && this.#asg) {
      track(
        await this.#asg.send(
          new DetachInstancesCommand({
            AutoScalingGroupName: d.autoScalingGroup,
            InstanceIds: [d.instanceId],
            // Keep capacity: the group replaces the instance while it is held for investigation.
            ShouldDecrementDesiredCapacity: false,
          }),
        ),
      );
      prior.detachedFrom = d.autoScalingGroup;
    }
    for (const eni of d.interfaces) {
      track(
        await this.#ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({
            NetworkInterfaceId: eni.id,
            Groups: [prior.quarantineGroupId],
          }),
        ),
      );
    }
    track(
      await this.#ec2.send(
        new CreateTagsCommand({
          Resources: [d.instanceId],
          Tags: [
            { Key: TAG_ALERT, Value: d.alertId },
            { Key: TAG_TIME, Value: now },
          ],
        }),
      ),
    );
    prior.taggedKeys = [TAG_ALERT, TAG_TIME];
    return { changes: plan.changes, requestIds, prior };
  }

  async undo(prior: Ec2Prior): Promise<UndoResult> {
    const requestIds: string[] = [];
    const changes: string[] = [];
    const track = (out: { $metadata: { requestId?: string } }) => {
      if (out.$metadata.requestId) requestIds.push(out.$metadata.requestId);
    };
    for (const eni of prior.interfaces) {
      if (eni.groups.length === 0) continue;
      track(
        await this.#ec2.send(
          new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: eni.id, Groups: eni.groups }),
        ),
      );
      changes.push(`restore groups [${eni.groups.join(', ')}] on ${eni.id}`);
    }
    if (prior.detachedFrom && this.#asg) {
      track(
        await this.#asg.send(
          new AttachInstancesCommand({
            AutoScalingGroupName: prior.detachedFrom,
            InstanceIds: [prior.instanceId],
          }),
        ),
      );
      changes.push(`attach ${prior.instanceId} to Auto Scaling group ${prior.detachedFrom}`);
    }
    if (prior.enabledTerminationProtection) {
      track(
        await this.#ec2.send(
          new ModifyInstanceAttributeCommand({
            InstanceId: prior.instanceId,
            DisableApiTermination: { Value: false },
          }),
        ),
      );
      changes.push(`disable termination protection on ${prior.instanceId}`);
    }
    if (prior.taggedKeys.length > 0) {
      track(
        await this.#ec2.send(
          new DeleteTagsCommand({
            Resources: [prior.instanceId],
            Tags: prior.taggedKeys.map((Key) => ({ Key })),
          }),
        ),
      );
      changes.push(`remove tags ${prior.taggedKeys.join(', ')} from ${prior.instanceId}`);
    }
    const warnings =
      prior.snapshotIds.length > 0 ? [`snapshots kept as evidence: ${prior.snapshotIds.join(', ')}`] : [];
    return { changes, requestIds, warnings };
  }

  async describe(instanceId: string) {
    const out = await this.#ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    return out.Reservations?.[0]?.Instances?.[0];
  }

  async #findQuarantineGroup(vpcId: string): Promise<string | undefined> {
    const out = await this.#ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'group-name', Values: [this.#config.quarantineGroupName] },
          { Name: 'vpc-id', Values: [vpcId] },
        ],
      }),
    );
    return out.SecurityGroups?.[0]?.GroupId;
  }

  async #createQuarantineGroup(
    vpcId: string,
    track: (out: { $metadata: { requestId?: string } }) => void,
  ): Promise<string> {
    const created = await this.#ec2.send(
      new CreateSecurityGroupCommand({
        GroupName: this.#config.quarantineGroupName,
        Description: 'aws-siem-connector quarantine: no inbound, no outbound',
        VpcId: vpcId,
      }),
    );
    track(created);
    const groupId = created.GroupId!;
    // A new VPC group allows all outbound traffic; revoke that default so the group has no rules at all.
    const described = await this.#ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    const egress = described.SecurityGroups?.[0]?.IpPermissionsEgress ?? [];
    if (egress.length > 0) {
      track(
        await this.#ec2.send(
          new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: egress }),
        ),
      );
    }
    return groupId;
  }
}
