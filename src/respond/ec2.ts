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
  type Instance,
  type IpPermission,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, type IAMClient } from '@aws-sdk/client-iam';
import { errorMessage } from '../errors.js';
import type { RespondConfig } from './config.js';
import { ActionRefusedError, afterChanges } from './errors.js';
import type { ApplyResult, PlanContext, Responder, ResponderPlan, UndoResult } from './types.js';

export interface Ec2PlanDetail {
  instanceId: string;
  vpcId: string;
  /** Security groups per network interface, as they are now. */
  interfaces: { id: string; groups: string[] }[];
  quarantineGroupId: string | undefined;
  /** Rules found on an existing quarantine group (it must have none): removed before it is used. */
  strayRules: { ingress: IpPermission[]; egress: IpPermission[] };
  /** Every interface already holds the quarantine group and the instance carries the tag. */
  isolated: boolean;
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
  /** Resolves an instance's profile role, to check an alert that names the instance by a role session. */
  iam?: IAMClient | undefined;
  autoScaling?: AutoScalingClient | undefined;
  config: RespondConfig['ec2'];
  now?: () => Date;
}

const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const INSTANCE_SESSION = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([^/]+)\/(i-[0-9a-f]+)$/;

interface InstanceSession {
  arn: string;
  account: string;
  role: string;
  instanceId: string;
}

/** `arn:…:sts::ACCOUNT:assumed-role/ROLE/i-…`: the form CloudTrail gives instance credentials. */
function instanceSession(target: string): InstanceSession | undefined {
  const arn = target.trim();
  const m = INSTANCE_SESSION.exec(arn);
  return m ? { arn, account: m[1]!, role: m[2]!, instanceId: m[3]!.toLowerCase() } : undefined;
}
const TAG_ALERT = 'asc:quarantine-alert';
const TAG_TIME = 'asc:quarantined-at';

/**
 * Isolates an instance the way AWS's ContainEC2Instance runbook does: record the groups of every
 * network interface, snapshot the volumes, protect from termination, then swap every interface to a
 * quarantine group with no rules in either direction; undo puts the recorded groups back.
 */
/** Each isolation step as the plan announces it and the audit records it done: the same words for both. */
const says = {
  createGroup: (group: string, vpcId: string) => `create security group ${group} in ${vpcId} with no rules`,
  snapshot: (volumes: number, instanceId: string) => `snapshot ${volumes} EBS volume(s) of ${instanceId}`,
  protect: (instanceId: string) => `enable termination protection on ${instanceId}`,
  detach: (instanceId: string, group: string) => `detach ${instanceId} from Auto Scaling group ${group}`,
  regroup: (eni: { id: string; groups: string[] }, group: string) =>
    `replace groups [${eni.groups.join(', ')}] of ${eni.id} with ${group}`,
  tag: (instanceId: string) => `tag ${instanceId} with ${TAG_ALERT} and ${TAG_TIME}`,
};

export class Ec2IsolateResponder implements Responder<Ec2PlanDetail, Ec2Prior> {
  readonly action = 'ec2-isolate' as const;
  readonly #ec2: EC2Client;
  readonly #iam: IAMClient | undefined;
  readonly #asg: AutoScalingClient | undefined;
  readonly #config: RespondConfig['ec2'];
  readonly #now: () => Date;

  constructor(options: Ec2ResponderOptions) {
    this.#ec2 = options.ec2;
    this.#iam = options.iam;
    this.#asg = options.autoScaling;
    this.#config = options.config;
    this.#now = options.now ?? (() => new Date());
  }

  normalise(target: string): string {
    // An instance role session's ARN ends in the instance id (CloudTrail userIdentity.arn of stolen
    // instance credentials), so alerts about such sessions can name the instance directly.
    const id = (instanceSession(target)?.instanceId ?? target).trim().toLowerCase();
    if (!INSTANCE_ID.test(id))
      throw new ActionRefusedError(`"${target.slice(0, 64)}" is not an EC2 instance id`, { target });
    return id;
  }

  /** Protected instances are known by their tags, which only the plan can read. */
  guard(_target: string): void {}

  async plan(target: string, context: PlanContext = {}): Promise<ResponderPlan<Ec2PlanDetail>> {
    const instanceId = this.normalise(target);
    let found: Awaited<ReturnType<Ec2IsolateResponder['describe']>>;
    try {
      found = await this.describe(instanceId);
    } catch (err) {
      if ((err as Error).name?.startsWith('InvalidInstanceID'))
        throw new ActionRefusedError(`instance ${instanceId} does not exist`);
      throw err;
    }
    if (!found) throw new ActionRefusedError(`instance ${instanceId} does not exist`);
    const { instance, ownerId } = found;
    const session = context.requested === undefined ? undefined : instanceSession(context.requested);
    if (session) await this.#checkInstanceSession(session, instance, ownerId);
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
    const quarantine = await this.#findQuarantineGroup(vpcId);
    const quarantineGroupId = quarantine?.id;
    const strayRules = { ingress: quarantine?.ingress ?? [], egress: quarantine?.egress ?? [] };
    const attr = await this.#ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute: 'disableApiTermination' }),
    );
    const terminationProtected = attr.DisableApiTermination?.Value === true;
    let groupOfInstance: string | undefined;
    if (this.#asg) {
      const out = await this.#asg.send(
        new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
      );
      groupOfInstance = out.AutoScalingInstances?.[0]?.AutoScalingGroupName;
    }
    const autoScalingGroup = this.#config.detachFromAsg ? groupOfInstance : undefined;
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
    const strayCount = strayRules.ingress.length + strayRules.egress.length;
    // A quarantine group that has rules (a half-made group, or one a person edited) does not isolate.
    if (strayCount > 0)
      changes.push(
        `remove ${strayCount} rule(s) from security group ${quarantineGroupId}: a quarantine group has none`,
      );
    if (!isolated) {
      if (!quarantineGroupId) changes.push(says.createGroup(this.#config.quarantineGroupName, vpcId));
      if (this.#config.snapshot && volumeCount > 0) changes.push(says.snapshot(volumeCount, instanceId));
      if (this.#config.terminationProtection && !terminationProtected) changes.push(says.protect(instanceId));
      if (autoScalingGroup) changes.push(says.detach(instanceId, autoScalingGroup));
      for (const eni of interfaces) {
        changes.push(says.regroup(eni, this.#config.quarantineGroupName));
      }
      changes.push(says.tag(instanceId));
    }
    return {
      action: this.action,
      target: instanceId,
      changes,
      warnings: isolated
        ? []
        : [
            'connections already open may survive a security-group change (connection tracking); see the playbook',
            // Termination protection does not stop Auto Scaling: a failing health check replaces the instance.
            ...(groupOfInstance && !autoScalingGroup
              ? [
                  `${instanceId} stays in Auto Scaling group ${groupOfInstance} (respond.ec2.detachFromAsg is false): the group may terminate it when its health check fails`,
                ]
              : []),
          ],
      detail: {
        instanceId,
        vpcId,
        interfaces,
        quarantineGroupId,
        strayRules,
        isolated,
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
    const changes: string[] = [];
    const prior: Ec2Prior = {
      instanceId: d.instanceId,
      interfaces: [],
      quarantineGroupId: d.quarantineGroupId ?? '',
      enabledTerminationProtection: false,
      detachedFrom: undefined,
      snapshotIds: [],
      taggedKeys: [],
    };
    try {
      if (d.quarantineGroupId)
        await this.#removeStrayRules(d.quarantineGroupId, d.strayRules, track, changes);
      if (d.isolated) return { changes, requestIds, prior };
      const now = this.#now().toISOString();
      // Recorded before any swap, so that undo of a half-done isolation restores every interface.
      prior.interfaces = d.interfaces;
      if (!d.quarantineGroupId) {
        prior.quarantineGroupId = await this.#createQuarantineGroup(d.vpcId, track);
        changes.push(says.createGroup(this.#config.quarantineGroupName, d.vpcId));
      }
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
        changes.push(says.snapshot(d.volumeCount, d.instanceId));
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
        changes.push(says.protect(d.instanceId));
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
        changes.push(says.detach(d.instanceId, d.autoScalingGroup));
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
        changes.push(says.regroup(eni, this.#config.quarantineGroupName));
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
      changes.push(says.tag(d.instanceId));
    } catch (err) {
      throw afterChanges(err, { prior, changes, requestIds });
    }
    return { changes, requestIds, prior };
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
    const asgWarnings: string[] = [];
    if (prior.detachedFrom && this.#asg) {
      // The group launched a replacement when the instance left; attaching raises its desired capacity by
      // one. A group at its maximum refuses: the instance's network is restored all the same, so that is a
      // warning for a person, not a failed undo that every retry would repeat.
      try {
        track(
          await this.#asg.send(
            new AttachInstancesCommand({
              AutoScalingGroupName: prior.detachedFrom,
              InstanceIds: [prior.instanceId],
            }),
          ),
        );
        changes.push(
          `attach ${prior.instanceId} to Auto Scaling group ${prior.detachedFrom} (desired capacity +1)`,
        );
      } catch (err) {
        asgWarnings.push(
          `${prior.instanceId} could not be attached to Auto Scaling group ${prior.detachedFrom} again (${errorMessage(err)}); attach it by hand if it should return`,
        );
      }
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
    const warnings = [
      ...asgWarnings,
      ...(prior.snapshotIds.length > 0
        ? [`snapshots kept as evidence: ${prior.snapshotIds.join(', ')}`]
        : []),
    ];
    return { changes, requestIds, warnings };
  }

  async describe(
    instanceId: string,
  ): Promise<{ instance: Instance; ownerId: string | undefined } | undefined> {
    const out = await this.#ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
    const reservation = out.Reservations?.[0];
    const instance = reservation?.Instances?.[0];
    return instance ? { instance, ownerId: reservation?.OwnerId } : undefined;
  }

  /**
   * A role session's name is chosen by whoever calls AssumeRole, so `…:assumed-role/AnyRole/i-0abc…` proves
   * nothing about instance i-0abc: the session must be of this account and of the role in the instance's
   * own instance profile, as real instance credentials are.
   */
  async #checkInstanceSession(session: InstanceSession, instance: Instance, ownerId: string | undefined) {
    const refuse = (why: string) =>
      new ActionRefusedError(`${session.arn} does not prove instance ${session.instanceId}: ${why}`);
    if (ownerId !== undefined && session.account !== ownerId)
      throw refuse(`the session is in account ${session.account}, the instance in ${ownerId}`);
    const profileArn = instance.IamInstanceProfile?.Arn;
    if (!profileArn) throw refuse('the instance has no instance profile');
    if (!this.#iam) throw refuse('no IAM client to read the instance profile');
    const out = await this.#iam.send(
      new GetInstanceProfileCommand({
        InstanceProfileName: profileArn.slice(profileArn.lastIndexOf('/') + 1),
      }),
    );
    const roles = (out.InstanceProfile?.Roles ?? []).map((r) => r.RoleName);
    if (!roles.includes(session.role))
      throw refuse(
        `role ${session.role} is not the role of its instance profile (${roles.join(', ') || 'none'})`,
      );
  }

  async #findQuarantineGroup(
    vpcId: string,
  ): Promise<{ id: string; ingress: IpPermission[]; egress: IpPermission[] } | undefined> {
    const out = await this.#ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'group-name', Values: [this.#config.quarantineGroupName] },
          { Name: 'vpc-id', Values: [vpcId] },
        ],
      }),
    );
    const group = out.SecurityGroups?.[0];
    if (!group?.GroupId) return undefined;
    return { id: group.GroupId, ingress: group.IpPermissions ?? [], egress: group.IpPermissionsEgress ?? [] };
  }

  async #removeStrayRules(
    groupId: string,
    rules: { ingress: IpPermission[]; egress: IpPermission[] },
    track: (out: { $metadata: { requestId?: string } }) => void,
    changes: string[],
  ): Promise<void> {
    if (rules.ingress.length > 0) {
      track(
        await this.#ec2.send(
          new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rules.ingress }),
        ),
      );
    }
    if (rules.egress.length > 0) {
      track(
        await this.#ec2.send(
          new RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: rules.egress }),
        ),
      );
    }
    const count = rules.ingress.length + rules.egress.length;
    if (count > 0)
      changes.push(`remove ${count} rule(s) from security group ${groupId}: a quarantine group has none`);
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
