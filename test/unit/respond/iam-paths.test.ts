import {
  GetLoginProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type IAMClient,
  ListAccessKeysCommand,
} from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { loadConfig, validateConfig } from '../../../src/config/index.js';
import { MemoryAuditLog } from '../../../src/respond/audit.js';
import { ActionRefusedError } from '../../../src/respond/errors.js';
import { IamDisableResponder, parsePrincipal, underPaths } from '../../../src/respond/iam.js';
import { ResponseRunner } from '../../../src/respond/runner.js';
import { JsonlActionStore } from '../../../src/respond/store.js';

/**
 * respond.iam.paths: users and roles are acted on only under these IAM paths, the path the deployment
 * templates scope the webhook role to (IamResponseUserPath → ASC_RESPOND_IAM_PATHS).
 */

const ACCOUNT = '111122223333';

/** IAM with users and roles at given paths; `readable` says which paths the caller's role may read. */
function fakeIam(principals: Record<string, string>, readable: (path: string) => boolean = () => true) {
  const calls: string[] = [];
  const denied = (what: string) =>
    Object.assign(
      new Error(
        `User: arn:aws:sts::${ACCOUNT}:assumed-role/asc-webhook/x is not authorized to perform: ${what}`,
      ),
      {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      },
    );
  const missing = () =>
    Object.assign(new Error('not found'), {
      name: 'NoSuchEntityException',
      $metadata: { httpStatusCode: 404 },
    });
  const lookup = (kind: 'user' | 'role', name: string) => {
    const path = principals[`${kind}/${name}`];
    if (path === undefined) throw missing();
    if (!readable(path)) throw denied(`iam:Get${kind === 'user' ? 'User' : 'Role'}`);
    return { Path: path, Arn: `arn:aws:iam::${ACCOUNT}:${kind}${path}${name}` };
  };
  const client = {
    send: async (command: unknown) => {
      calls.push((command as object).constructor.name);
      if (command instanceof GetUserCommand) return { User: lookup('user', command.input.UserName!) };
      if (command instanceof GetRoleCommand) return { Role: lookup('role', command.input.RoleName!) };
      if (command instanceof ListAccessKeysCommand) return { AccessKeyMetadata: [] };
      if (command instanceof GetUserPolicyCommand || command instanceof GetLoginProfileCommand)
        throw missing();
      if (command instanceof GetRolePolicyCommand) throw missing();
      throw new Error(`unexpected ${(command as object).constructor.name}`);
    },
  } as unknown as IAMClient;
  return { client, calls };
}

function responder(paths: string[], iam: ReturnType<typeof fakeIam>) {
  const config = validateConfig({ respond: { iam: { paths } } });
  return new IamDisableResponder({ client: iam.client, config: config.respond.iam });
}

const PRINCIPALS = {
  'user/alice': '/humans/',
  'user/bob': '/humans/eng/',
  'user/ci-deployer': '/',
  'user/svc': '/service/',
  'role/Analyst': '/humans/',
  'role/AppRole': '/',
};

describe('respond.iam.paths', () => {
  it('acts on users and roles under a path, and below it', async () => {
    const iam = fakeIam(PRINCIPALS);
    const r = responder(['/humans/'], iam);
    expect((await r.plan('alice')).changes).toContain(
      'put inline deny-all policy asc-deny-all on user alice',
    );
    expect((await r.plan('bob')).detail).toMatchObject({ kind: 'user', name: 'bob' });
    expect((await r.plan('role/Analyst')).detail).toMatchObject({ kind: 'role', name: 'Analyst' });
  });

  it('refuses a principal IAM reports at another path', async () => {
    const iam = fakeIam(PRINCIPALS);
    const r = responder(['/humans/', '/contractors/'], iam);
    await expect(r.plan('ci-deployer')).rejects.toMatchObject({
      name: 'ActionRefusedError',
      message: 'user ci-deployer is at IAM path /, outside respond.iam.paths (/humans/, /contractors/)',
    });
    await expect(r.plan('role/AppRole')).rejects.toBeInstanceOf(ActionRefusedError);
    // Paths end in /, so a prefix match never takes /humansx/ for a path below /humans/.
    expect(underPaths('/humansx/', ['/humans/'])).toBe(false);
    expect(underPaths('/anything/', [])).toBe(true);
  });

  it('refuses an ARN at another path before any AWS call', async () => {
    const iam = fakeIam(PRINCIPALS);
    const r = responder(['/humans/'], iam);
    expect(parsePrincipal(`arn:aws:iam::${ACCOUNT}:user/service/svc`)).toMatchObject({ path: '/service/' });
    expect(parsePrincipal(`arn:aws:iam::${ACCOUNT}:user/svc`)).toMatchObject({ path: '/' });
    expect(parsePrincipal(`arn:aws:sts::${ACCOUNT}:assumed-role/AppRole/s`).path).toBeUndefined();
    await expect(
      r.plan('user/svc', { requested: `arn:aws:iam::${ACCOUNT}:user/service/svc` }),
    ).rejects.toThrow(/user svc is at IAM path \/service\/, outside respond\.iam\.paths \(\/humans\/\)/);
    expect(iam.calls).toEqual([]);
  });

  it('refuses, not fails, a principal the role scoped to the paths may not read', async () => {
    const iam = fakeIam(PRINCIPALS, (path) => path.startsWith('/humans/'));
    const config = validateConfig({
      respond: { dryRun: false, enabled: { 'iam-disable-user': true }, iam: { paths: ['/humans/'] } },
    });
    const runner = new ResponseRunner(config.respond, {
      responders: {
        'iam-disable-user': new IamDisableResponder({ client: iam.client, config: config.respond.iam }),
      },
      store: new JsonlActionStore(),
      audit: new MemoryAuditLog(),
    });
    const outcome = await runner.run({
      action: 'iam-disable-user',
      target: 'ci-deployer',
      alertId: 'a1',
      requester: { source: 'webhook:splunk' },
      mode: 'auto',
    });
    expect(outcome.status).toBe('refused');
    expect(outcome.reason).toMatch(
      /^user ci-deployer cannot be read \(AccessDenied: .*iam:GetUser\); this responder acts only under respond\.iam\.paths \(\/humans\/\)/,
    );
  });

  it('without paths, acts on any path and lets IAM refusals fail as before', async () => {
    const iam = fakeIam(PRINCIPALS, (path) => path !== '/service/');
    const r = responder([], iam);
    expect((await r.plan('ci-deployer')).detail).toMatchObject({ name: 'ci-deployer' });
    await expect(r.plan('svc')).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('never keeps undo from reverting a principal outside the paths', async () => {
    const undone: string[] = [];
    const client = {
      send: async (command: unknown) => {
        undone.push((command as object).constructor.name);
        return { $metadata: {} };
      },
    } as unknown as IAMClient;
    const r = new IamDisableResponder({
      client,
      config: validateConfig({ respond: { iam: { paths: ['/humans/'] } } }).respond.iam,
    });
    const result = await r.undo({
      kind: 'user',
      name: 'ci-deployer',
      deactivatedKeys: ['AKIAEXAMPLE'],
      putDenyPolicy: true,
      deletedLoginProfile: false,
    });
    expect(result.changes).toHaveLength(2);
    expect(undone).toEqual(['UpdateAccessKeyCommand', 'DeleteUserPolicyCommand']);
  });

  it('accepts IAM paths only', () => {
    expect(validateConfig({ respond: { iam: { paths: ['/', '/a/b/'] } } }).respond.iam.paths).toEqual([
      '/',
      '/a/b/',
    ]);
    for (const bad of ['humans', '/humans', 'humans/', '//', '/hu mans/'])
      expect(() => validateConfig({ respond: { iam: { paths: [bad] } } }), bad).toThrow(
        /respond\.iam\.paths/,
      );
  });

  it('is set from ASC_RESPOND_IAM_PATHS, and names the variable of a path that is not one', () => {
    const { iam } = loadConfig({ env: { ASC_RESPOND_IAM_PATHS: '/humans/, /contractors/' } }).respond;
    expect(iam.paths).toEqual(['/humans/', '/contractors/']);
    expect(loadConfig({ env: {} }).respond.iam.paths).toEqual([]);
    expect(() => loadConfig({ env: { ASC_RESPOND_IAM_PATHS: 'humans' } })).toThrow(
      /respond\.iam\.paths\.0 \(from ASC_RESPOND_IAM_PATHS\)/,
    );
  });
});
