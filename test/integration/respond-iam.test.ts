import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  CreateUserCommand,
  GetLoginProfileCommand,
  GetRolePolicyCommand,
  ListAccessKeysCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { createEc2Role, liveRunner, motoClients, runId } from './respond-helpers.js';

const { clients } = motoClients();
const requester = { source: 'webhook:splunk', rule: 'AWS IAM Backdoor Access Key' };

async function userWithKeys(name: string) {
  await clients.iam.send(new CreateUserCommand({ UserName: name }));
  const a = await clients.iam.send(new CreateAccessKeyCommand({ UserName: name }));
  const b = await clients.iam.send(new CreateAccessKeyCommand({ UserName: name }));
  await clients.iam.send(new CreateLoginProfileCommand({ UserName: name, Password: 'Initial-Passw0rd!x' }));
  return [a.AccessKey!.AccessKeyId!, b.AccessKey!.AccessKeyId!];
}

async function keyStatus(name: string): Promise<Record<string, string>> {
  const out = await clients.iam.send(new ListAccessKeysCommand({ UserName: name }));
  return Object.fromEntries((out.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId!, k.Status!]));
}

async function userPolicies(name: string): Promise<string[]> {
  return (await clients.iam.send(new ListUserPoliciesCommand({ UserName: name }))).PolicyNames ?? [];
}

describe('IAM disable against moto', () => {
  it('deactivates keys and denies all, then undo restores exactly the keys that were active', async () => {
    const name = `alice-${runId}`;
    const [k1, k2] = await userWithKeys(name);
    // k2 was already Inactive before the incident: undo must leave it Inactive.
    await clients.iam.send(
      new UpdateAccessKeyCommand({ UserName: name, AccessKeyId: k2!, Status: 'Inactive' }),
    );
    const { runner } = liveRunner({});
    const plan = await runner.run({
      action: 'iam-disable-user',
      target: name,
      alertId: 's-1',
      requester,
      mode: 'plan',
    });
    expect(plan.status).toBe('planned');
    const applied = await runner.run({
      action: 'iam-disable-user',
      target: name,
      alertId: 's-1',
      requester,
      mode: 'auto',
    });
    expect(applied.status).toBe('applied');
    // What the plan announced is what is done and audited, step for step.
    expect(applied.changes).toEqual(plan.changes);
    expect(applied.warnings.join(' ')).toContain('console password is kept');
    expect(await keyStatus(name)).toEqual({ [k1!]: 'Inactive', [k2!]: 'Inactive' });
    expect(await userPolicies(name)).toEqual(['asc-deny-all']);
    // The login profile is kept by default (removeLoginProfile: false).
    await expect(clients.iam.send(new GetLoginProfileCommand({ UserName: name }))).resolves.toBeDefined();

    expect(
      (
        await runner.run({
          action: 'iam-disable-user',
          target: name,
          alertId: 's-1',
          requester,
          mode: 'auto',
        })
      ).status,
    ).toBe('skipped');
    expect(
      (
        await runner.run({
          action: 'iam-disable-user',
          target: `user/${name}`,
          alertId: 's-2',
          requester,
          mode: 'auto',
        })
      ).status,
    ).toBe('unchanged');

    const undone = await runner.undo('iam-disable-user', `arn:aws:iam::123456789012:user/${name}`, {
      source: 'cli',
    });
    expect(undone.status).toBe('undone');
    expect(await keyStatus(name)).toEqual({ [k1!]: 'Active', [k2!]: 'Inactive' });
    expect(await userPolicies(name)).toEqual([]);
  });

  it('removes the login profile only when configured, and says undo cannot restore it', async () => {
    const name = `bob-${runId}`;
    await userWithKeys(name);
    const { runner } = liveRunner({ iam: { removeLoginProfile: true } });
    const plan = await runner.run({
      action: 'iam-disable-user',
      target: name,
      alertId: 'p-1',
      requester,
      mode: 'plan',
    });
    expect(plan.warnings.join(' ')).toContain('cannot restore');
    await runner.run({ action: 'iam-disable-user', target: name, alertId: 'p-1', requester, mode: 'auto' });
    await expect(clients.iam.send(new GetLoginProfileCommand({ UserName: name }))).rejects.toMatchObject({
      name: 'NoSuchEntityException',
    });
    const undone = await runner.undo('iam-disable-user', name, { source: 'cli' });
    expect(undone.warnings.join(' ')).toContain('cannot be restored');
  });

  it('never touches a protected user or root', async () => {
    const name = `breakglass-${runId}`;
    const [k1, k2] = await userWithKeys(name);
    const { runner } = liveRunner({ iam: { protectedUsers: [name] } });
    // IAM names are unique regardless of case: an alert spelling the name differently is the same user.
    for (const target of [name, name.toUpperCase(), 'root', 'arn:aws:iam::123456789012:root']) {
      const outcome = await runner.run({
        action: 'iam-disable-user',
        target,
        alertId: `prot-${target}`,
        requester,
        mode: 'auto',
      });
      expect(outcome.status, target).toBe('refused');
    }
    expect(await keyStatus(name)).toEqual({ [k1!]: 'Active', [k2!]: 'Active' });
    expect(await userPolicies(name)).toEqual([]);
  });

  it('revokes a role’s older sessions from an assumed-role ARN, and undo removes the policy', async () => {
    const role = `app-role-${runId}`;
    await createEc2Role(clients, role);
    const { runner } = liveRunner({});
    const target = `arn:aws:sts::123456789012:assumed-role/${role}/i-0123456789abcdef0`;
    const applied = await runner.run({
      action: 'iam-disable-user',
      target,
      alertId: 'r-1',
      requester,
      mode: 'auto',
    });
    expect(applied).toMatchObject({ status: 'applied', target: `role/${role}` });
    const policy = await clients.iam.send(
      new GetRolePolicyCommand({ RoleName: role, PolicyName: 'asc-revoke-older-sessions' }),
    );
    const document = JSON.parse(decodeURIComponent(policy.PolicyDocument!));
    expect(document.Statement[0]).toMatchObject({
      Effect: 'Deny',
      Action: '*',
      Condition: { DateLessThan: { 'aws:TokenIssueTime': expect.any(String) } },
    });
    await runner.undo('iam-disable-user', `role/${role}`, { source: 'cli' });
    expect((await clients.iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames).toEqual([]);
  });

  it('refuses a user that does not exist', async () => {
    const { runner } = liveRunner({});
    const outcome = await runner.run({
      action: 'iam-disable-user',
      target: `ghost-${runId}`,
      alertId: 'g-1',
      requester,
      mode: 'auto',
    });
    expect(outcome).toMatchObject({ status: 'refused', reason: expect.stringContaining('does not exist') });
  });

  it('refuses an ARN of another account, leaving the user of the same name here untouched', async () => {
    const name = `ci-deploy-${runId}`;
    const [k1] = await userWithKeys(name);
    const { runner } = liveRunner({});
    const outcome = await runner.run({
      action: 'iam-disable-user',
      target: `arn:aws:iam::999999999999:user/${name}`,
      alertId: 'xacct-1',
      requester,
      mode: 'auto',
    });
    expect(outcome).toMatchObject({ status: 'refused', reason: expect.stringContaining('999999999999') });
    expect((await keyStatus(name))[k1!]).toBe('Active');
    expect(await userPolicies(name)).toEqual([]);
    // The same user named by this account's ARN is disabled.
    const here = await runner.run({
      action: 'iam-disable-user',
      target: `arn:aws:iam::123456789012:user/${name}`,
      alertId: 'xacct-2',
      requester,
      mode: 'auto',
    });
    expect(here.status).toBe('applied');
    expect((await keyStatus(name))[k1!]).toBe('Inactive');
  });

  it('acts only under respond.iam.paths, as ASC_RESPOND_IAM_PATHS sets it from IamResponseUserPath', async () => {
    const inside = `hum-${runId}`;
    const outside = `svc-${runId}`;
    await clients.iam.send(new CreateUserCommand({ UserName: inside, Path: '/humans/eng/' }));
    await clients.iam.send(new CreateAccessKeyCommand({ UserName: inside }));
    await clients.iam.send(new CreateUserCommand({ UserName: outside, Path: '/service/' }));
    const created = await clients.iam.send(new CreateAccessKeyCommand({ UserName: outside }));
    const key = created.AccessKey!.AccessKeyId!;
    const { runner } = liveRunner({ iam: { paths: ['/humans/'] } });
    const disable = (target: string, alertId: string) =>
      runner.run({ action: 'iam-disable-user', target, alertId, requester, mode: 'auto' });

    const refused = await disable(outside, 'path-1');
    expect(refused).toMatchObject({
      status: 'refused',
      reason: `user ${outside} is at IAM path /service/, outside respond.iam.paths (/humans/)`,
    });
    expect((await keyStatus(outside))[key]).toBe('Active');
    expect(await userPolicies(outside)).toEqual([]);
    expect((await disable(inside, 'path-2')).status).toBe('applied');
    expect(await userPolicies(inside)).toEqual(['asc-deny-all']);
  });
});
