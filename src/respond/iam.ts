import {
  DeleteLoginProfileCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  type IAMClient,
  ListAccessKeysCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import type { RespondConfig } from './config.js';
import { ActionRefusedError, afterChanges } from './errors.js';
import type { ApplyResult, PlanContext, Responder, ResponderPlan, UndoResult } from './types.js';

export type Principal = {
  kind: 'user' | 'role';
  name: string;
  /** The account an ARN names; a bare name has none. */
  account?: string;
  /** An assumed-role ARN: the session name, which whoever calls AssumeRole chooses. */
  session?: string;
  /** An IAM user or role ARN: the IAM path it names (`/` when none); an assumed-role ARN names none. */
  path?: string;
};

export type IamPlanDetail = (
  | {
      kind: 'user';
      name: string;
      activeKeys: string[];
      denyPolicyPresent: boolean;
      loginProfilePresent: boolean;
    }
  | { kind: 'role'; name: string; previousDocument: string | undefined }
) & {
  /** From the principal's ARN as IAM reports it. */
  account: string | undefined;
};

export type IamPrior =
  | {
      kind: 'user';
      name: string;
      /** Keys this action set Inactive; undo sets exactly these Active again. */
      deactivatedKeys: string[];
      putDenyPolicy: boolean;
      deletedLoginProfile: boolean;
    }
  | { kind: 'role'; name: string; putRevokePolicy: boolean; previousDocument: string | undefined };

const IAM_NAME = /^[\w+=,.@-]{1,64}$/;
const ARN = /^arn:aws[\w-]*:(iam|sts)::(\d{12}):(.+)$/;

/**
 * Accepts what alerts carry: a user name, `user/NAME`, `role/NAME`, an IAM user or role ARN, or an STS
 * assumed-role ARN (CloudTrail's userIdentity.arn for a role session), which names the role.
 */
export function parsePrincipal(target: string): Principal {
  const text = target.trim();
  const arn = ARN.exec(text);
  let kind: Principal['kind'] = 'user';
  let rest = text;
  if (arn) {
    const resource = arn[3]!;
    if (resource === 'root')
      throw new ActionRefusedError('the account root user is never touched', { target });
    const [type, ...parts] = resource.split('/');
    const account = arn[2]!;
    if (arn[1] === 'sts' && type === 'assumed-role' && parts.length >= 2)
      return { ...checked('role', parts[0]!, target), account, session: parts.slice(1).join('/') };
    if (arn[1] === 'iam' && (type === 'user' || type === 'role') && parts.length >= 1) {
      // IAM paths (`user/division/alice`) precede the name, which is the last segment.
      const path = parts.length > 1 ? `/${parts.slice(0, -1).join('/')}/` : '/';
      return { ...checked(type, parts[parts.length - 1]!, target), account, path };
    }
    throw new ActionRefusedError(`${text}: not a user, role or assumed-role ARN`, { target });
  }
  const slash = /^(user|role)\/(.+)$/.exec(text);
  if (slash) {
    kind = slash[1] as Principal['kind'];
    rest = slash[2]!;
  }
  return checked(kind, rest, target);
}

/** True when an IAM path is one of `paths` or below one; any path when `paths` is empty. */
export function underPaths(path: string, paths: readonly string[]): boolean {
  return paths.length === 0 || paths.some((p) => path.startsWith(p));
}

function checked(kind: Principal['kind'], name: string, target: string): Principal {
  if (!IAM_NAME.test(name))
    throw new ActionRefusedError(`"${name}" is not a valid IAM ${kind} name`, { target });
  if (kind === 'user' && name.toLowerCase() === 'root') {
    throw new ActionRefusedError('the account root user is never touched', { target });
  }
  return { kind, name };
}

const DENY_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Sid: 'AscDenyAll', Effect: 'Deny', Action: '*', Resource: '*' }],
});

/** AWS's documented "revoke active sessions": deny every token issued before now. */
function revokeOlderSessions(now: Date): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'AscRevokeOlderSessions',
        Effect: 'Deny',
        Action: '*',
        Resource: '*',
        Condition: { DateLessThan: { 'aws:TokenIssueTime': now.toISOString() } },
      },
    ],
  });
}

export interface IamResponderOptions {
  client: IAMClient;
  config: RespondConfig['iam'];
  now?: () => Date;
}

/**
 * Disables a user (access keys Inactive, never deleted; an inline deny-all; the console password only
 * when configured) or revokes a role's active sessions. Follows AWS's credential-compromise playbook:
 * reversible first, and undo restores exactly what this action changed.
 */
/** Each step on a user as the plan announces it and the audit records it done: the same words for both. */
const says = {
  deny: (policy: string, user: string) => `put inline deny-all policy ${policy} on user ${user}`,
  deactivate: (keyId: string, user: string) =>
    `set access key ${keyId} of user ${user} Inactive (not deleted)`,
  dropLogin: (user: string) => `delete the console login profile of user ${user}`,
};

export class IamDisableResponder implements Responder<IamPlanDetail, IamPrior> {
  readonly action = 'iam-disable-user' as const;
  readonly #client: IAMClient;
  readonly #config: RespondConfig['iam'];
  readonly #now: () => Date;

  constructor(options: IamResponderOptions) {
    this.#client = options.client;
    this.#config = options.config;
    this.#now = options.now ?? (() => new Date());
  }

  normalise(target: string): string {
    const principal = parsePrincipal(target);
    return `${principal.kind}/${principal.name}`;
  }

  guard(target: string): void {
    const principal = parsePrincipal(target);
    const list = principal.kind === 'user' ? this.#config.protectedUsers : this.#config.protectedRoles;
    // IAM names are unique regardless of case (and looked up so): `BreakGlass` is the protected `breakglass`.
    const name = principal.name.toLowerCase();
    if (list.some((p) => p.toLowerCase() === name)) {
      throw new ActionRefusedError(`${principal.kind} ${principal.name} is protected`, { target });
    }
  }

  async plan(target: string, context: PlanContext = {}): Promise<ResponderPlan<IamPlanDetail>> {
    const normal = this.normalise(target);
    this.guard(normal);
    const principal = parsePrincipal(normal);
    const requested = context.requested === undefined ? undefined : parsePrincipal(context.requested);
    // An ARN names the path: one outside respond.iam.paths is refused before any AWS call.
    if (requested?.path !== undefined) this.#checkPath(principal, requested.path, target);
    const plan =
      principal.kind === 'user'
        ? await this.#planUser(principal.name, normal)
        : await this.#planRole(principal.name, normal);
    // An ARN from another account (an organisation trail, a cross-account AssumeRole) must not disable
    // the principal of the same name here.
    const named = requested?.account;
    if (named !== undefined && named !== plan.detail.account) {
      throw new ActionRefusedError(
        `${context.requested} is in account ${named}; ${principal.kind} ${principal.name} here is in account ${plan.detail.account ?? 'unknown'}`,
        { target },
      );
    }
    return plan;
  }

  async apply(plan: ResponderPlan<IamPlanDetail>): Promise<ApplyResult<IamPrior>> {
    const detail = plan.detail;
    const requestIds: string[] = [];
    const track = (out: { $metadata: { requestId?: string } }) => {
      if (out.$metadata.requestId) requestIds.push(out.$metadata.requestId);
    };
    if (detail.kind === 'role') {
      const document = revokeOlderSessions(this.#now());
      track(
        await this.#client.send(
          new PutRolePolicyCommand({
            RoleName: detail.name,
            PolicyName: this.#config.revokeSessionsPolicyName,
            PolicyDocument: document,
          }),
        ),
      );
      return {
        changes: plan.changes,
        requestIds,
        prior: {
          kind: 'role',
          name: detail.name,
          putRevokePolicy: true,
          previousDocument: detail.previousDocument,
        },
      };
    }
    const prior: IamPrior = {
      kind: 'user',
      name: detail.name,
      deactivatedKeys: [],
      putDenyPolicy: false,
      deletedLoginProfile: false,
    };
    const changes: string[] = [];
    try {
      // Deny first: it stops every credential at once, keys and password alike, before the slower steps.
      if (!detail.denyPolicyPresent) {
        track(
          await this.#client.send(
            new PutUserPolicyCommand({
              UserName: detail.name,
              PolicyName: this.#config.denyPolicyName,
              PolicyDocument: DENY_ALL,
            }),
          ),
        );
        prior.putDenyPolicy = true;
        changes.push(says.deny(this.#config.denyPolicyName, detail.name));
      }
      for (const keyId of detail.activeKeys) {
        track(
          await this.#client.send(
            new UpdateAccessKeyCommand({ UserName: detail.name, AccessKeyId: keyId, Status: 'Inactive' }),
          ),
        );
        prior.deactivatedKeys.push(keyId);
        changes.push(says.deactivate(keyId, detail.name));
      }
      if (this.#config.removeLoginProfile && detail.loginProfilePresent) {
        track(await this.#client.send(new DeleteLoginProfileCommand({ UserName: detail.name })));
        prior.deletedLoginProfile = true;
        changes.push(says.dropLogin(detail.name));
      }
    } catch (err) {
      throw afterChanges(err, { prior, changes, requestIds });
    }
    return { changes, requestIds, prior };
  }

  async undo(prior: IamPrior): Promise<UndoResult> {
    const requestIds: string[] = [];
    const changes: string[] = [];
    const warnings: string[] = [];
    const track = (out: { $metadata: { requestId?: string } }) => {
      if (out.$metadata.requestId) requestIds.push(out.$metadata.requestId);
    };
    if (prior.kind === 'role') {
      if (!prior.putRevokePolicy) return { changes, requestIds, warnings };
      if (prior.previousDocument) {
        track(
          await this.#client.send(
            new PutRolePolicyCommand({
              RoleName: prior.name,
              PolicyName: this.#config.revokeSessionsPolicyName,
              PolicyDocument: prior.previousDocument,
            }),
          ),
        );
        changes.push(
          `restore the previous inline policy ${this.#config.revokeSessionsPolicyName} on role ${prior.name}`,
        );
      } else {
        await ignoreMissing(async () =>
          track(
            await this.#client.send(
              new DeleteRolePolicyCommand({
                RoleName: prior.name,
                PolicyName: this.#config.revokeSessionsPolicyName,
              }),
            ),
          ),
        );
        changes.push(`delete inline policy ${this.#config.revokeSessionsPolicyName} from role ${prior.name}`);
      }
      return { changes, requestIds, warnings };
    }
    for (const keyId of prior.deactivatedKeys) {
      await ignoreMissing(async () =>
        track(
          await this.#client.send(
            new UpdateAccessKeyCommand({ UserName: prior.name, AccessKeyId: keyId, Status: 'Active' }),
          ),
        ),
      );
      changes.push(`set access key ${keyId} of user ${prior.name} Active`);
    }
    if (prior.putDenyPolicy) {
      await ignoreMissing(async () =>
        track(
          await this.#client.send(
            new DeleteUserPolicyCommand({ UserName: prior.name, PolicyName: this.#config.denyPolicyName }),
          ),
        ),
      );
      changes.push(`delete inline policy ${this.#config.denyPolicyName} from user ${prior.name}`);
    }
    if (prior.deletedLoginProfile) {
      warnings.push(
        `the console password of ${prior.name} was deleted and cannot be restored; create a new one with a reset`,
      );
    }
    return { changes, requestIds, warnings };
  }

  async #planUser(name: string, target: string): Promise<ResponderPlan<IamPlanDetail>> {
    const user = await this.#mustExist(
      () => this.#client.send(new GetUserCommand({ UserName: name })),
      `user ${name}`,
    );
    this.#checkPath({ kind: 'user', name }, user.User?.Path ?? '/', target);
    const keys: string[] = [];
    let marker: string | undefined;
    do {
      const out = await this.#client.send(new ListAccessKeysCommand({ UserName: name, Marker: marker }));
      for (const key of out.AccessKeyMetadata ?? []) {
        if (key.Status === 'Active' && key.AccessKeyId) keys.push(key.AccessKeyId);
      }
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    const denyPolicyPresent = await exists(() =>
      this.#client.send(
        new GetUserPolicyCommand({ UserName: name, PolicyName: this.#config.denyPolicyName }),
      ),
    );
    const loginProfilePresent = await exists(() =>
      this.#client.send(new GetLoginProfileCommand({ UserName: name })),
    );
    const changes: string[] = [];
    const warnings: string[] = [];
    if (!denyPolicyPresent) changes.push(says.deny(this.#config.denyPolicyName, name));
    for (const key of keys) changes.push(says.deactivate(key, name));
    if (this.#config.removeLoginProfile && loginProfilePresent) {
      changes.push(says.dropLogin(name));
      warnings.push('undo cannot restore a deleted console password: the user will need a new one');
    } else if (loginProfilePresent) {
      warnings.push('the console password is kept; the deny-all policy blocks what it can do');
    }
    return {
      action: this.action,
      target,
      changes,
      warnings,
      detail: {
        kind: 'user',
        name,
        activeKeys: keys,
        denyPolicyPresent,
        loginProfilePresent,
        account: accountOf(user.User?.Arn),
      },
    };
  }

  async #planRole(name: string, target: string): Promise<ResponderPlan<IamPlanDetail>> {
    const role = await this.#mustExist(
      () => this.#client.send(new GetRoleCommand({ RoleName: name })),
      `role ${name}`,
    );
    if (role.Role?.Path?.startsWith('/aws-service-role/')) {
      throw new ActionRefusedError(`role ${name} is a service-linked role`, { target });
    }
    this.#checkPath({ kind: 'role', name }, role.Role?.Path ?? '/', target);
    let previousDocument: string | undefined;
    try {
      const out = await this.#client.send(
        new GetRolePolicyCommand({ RoleName: name, PolicyName: this.#config.revokeSessionsPolicyName }),
      );
      // IAM returns policy documents URL-encoded.
      previousDocument = out.PolicyDocument ? decodeURIComponent(out.PolicyDocument) : undefined;
    } catch (err) {
      if ((err as Error).name !== 'NoSuchEntityException') throw err;
    }
    return {
      action: this.action,
      target,
      changes: [
        `put inline policy ${this.#config.revokeSessionsPolicyName} on role ${name} denying every session issued before now`,
      ],
      warnings: ['this revokes the sessions of every user and service of the role; new sessions still work'],
      detail: { kind: 'role', name, previousDocument, account: accountOf(role.Role?.Arn) },
    };
  }

  /** Refuses a principal outside `respond.iam.paths` (plan only: undo is never guarded). */
  #checkPath(principal: Pick<Principal, 'kind' | 'name'>, path: string, target: string): void {
    const paths = this.#config.paths;
    if (underPaths(path, paths)) return;
    throw new ActionRefusedError(
      `${principal.kind} ${principal.name} is at IAM path ${path}, outside respond.iam.paths (${paths.join(', ')})`,
      { target },
    );
  }

  async #mustExist<T>(call: () => Promise<T>, what: string): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if ((err as Error).name === 'NoSuchEntityException')
        throw new ActionRefusedError(`${what} does not exist`);
      // With respond.iam.paths set, the webhook role may read principals under those paths only (the
      // templates scope it so): a principal elsewhere answers AccessDenied. That is the guardrail working,
      // a refusal, not a failure that raises the failure alarm; IAM's answer stays in the reason.
      const paths = this.#config.paths;
      if (paths.length > 0 && isAccessDenied(err)) {
        throw new ActionRefusedError(
          `${what} cannot be read (${(err as Error).name}: ${(err as Error).message}); this responder acts only under respond.iam.paths (${paths.join(', ')}), where its role may read`,
        );
      }
      throw err;
    }
  }
}

function accountOf(arn: string | undefined): string | undefined {
  return arn === undefined ? undefined : ARN.exec(arn)?.[2];
}

/** IAM's refusal of the call itself; not other 403s such as InvalidClientTokenId (bad credentials fail). */
function isAccessDenied(err: unknown): boolean {
  const name = (err as Error).name;
  return name === 'AccessDenied' || name === 'AccessDeniedException';
}

async function exists(call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (err) {
    if ((err as Error).name === 'NoSuchEntityException') return false;
    throw err;
  }
}

/** Undo is idempotent: something already gone is what undo wanted. */
async function ignoreMissing(call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (err) {
    if ((err as Error).name !== 'NoSuchEntityException') throw err;
  }
}
