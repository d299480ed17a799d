import { z } from 'zod';

/** The three response actions; these names appear in policies, the CLI, the audit log and the store. */
export const ACTION_NAMES = ['waf-block-ip', 'iam-disable-user', 'ec2-isolate'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

const rateLimitSchema = z.strictObject({
  /** Actions applied per window; beyond it the action is skipped with a reason (never queued). */
  max: z.number().int().min(1).default(10),
  windowSeconds: z.number().int().min(1).default(60),
});

const ipSetRefSchema = z.strictObject({
  name: z.string().min(1),
  id: z.string().min(1),
});

const wafSchema = z.strictObject({
  /** The IPv4 set (IPAddressVersion IPV4). Without it, IPv4 targets are refused. */
  ipv4Set: ipSetRefSchema.optional(),
  /** The IPv6 set (IPAddressVersion IPV6). Without it, IPv6 targets are refused. */
  ipv6Set: ipSetRefSchema.optional(),
  /** CLOUDFRONT sets live in us-east-1 whatever aws.region says. */
  scope: z.enum(['REGIONAL', 'CLOUDFRONT']).default('REGIONAL'),
  /** The broadest IPv4 prefix a block may cover; a single address is /32. Never below /8. */
  minPrefixV4: z.number().int().min(8).max(32).default(32),
  /** The broadest IPv6 prefix a block may cover; a single address is /128. Never below /16. */
  minPrefixV6: z.number().int().min(16).max(128).default(128),
  /** Never blocked: own NAT/egress addresses, scanners, the SIEM itself. Overlap with a target refuses it. */
  allowList: z.array(z.string().min(1)).default([]),
  /** How long a block lasts; `sweep` removes it afterwards. 0 keeps it until undone. */
  ttlSeconds: z.number().int().min(0).default(86_400),
  /** Refuse to add beyond this many entries per set (AWS's limit is 10,000). */
  maxAddresses: z.number().int().min(1).max(10_000).default(10_000),
  /** Attempts at get + update when another writer changes the set in between (WAFOptimisticLockException). */
  lockRetries: z.number().int().min(1).max(20).default(6),
});

const iamSchema = z.strictObject({
  /** Users never touched (break-glass, the responder's own user). `root` is always protected. */
  protectedUsers: z.array(z.string().min(1)).default([]),
  /** Roles never touched (break-glass, the responder's own role). */
  protectedRoles: z.array(z.string().min(1)).default([]),
  /** Delete the console password too. Undo cannot restore a deleted password, so this is off by default. */
  removeLoginProfile: z.boolean().default(false),
  /** Name of the inline deny-all policy put on a user. */
  denyPolicyName: z.string().min(1).default('asc-deny-all'),
  /** Name of the inline policy that denies role sessions issued before the response. */
  revokeSessionsPolicyName: z.string().min(1).default('asc-revoke-older-sessions'),
});

const ec2Schema = z.strictObject({
  /** Security group with no inbound and no outbound rules, created per VPC when missing. */
  quarantineGroupName: z.string().min(1).default('asc-quarantine'),
  /** Snapshot every EBS volume (crash-consistent set) before isolating. */
  snapshot: z.boolean().default(true),
  /** Turn on termination protection so evidence survives. */
  terminationProtection: z.boolean().default(true),
  /**
   * Detach the instance from its Auto Scaling group (the group launches a replacement). On by default, as
   * in AWS's incident-response guidance: termination protection does not stop Auto Scaling, and an isolated
   * instance fails its health checks and would be terminated, evidence and all.
   */
  detachFromAsg: z.boolean().default(true),
  /** Instances carrying any of these tag keys are never isolated. */
  protectedTagKeys: z.array(z.string().min(1)).default(['asc:protected']),
});

/** Response actions. Every action is dry-run until `dryRun` is false and the action is enabled here. */
export const respondConfigSchema = z.strictObject({
  /** Plan only: nothing is changed in AWS while true, whatever `enabled` says. */
  dryRun: z.boolean().default(true),
  enabled: z
    .strictObject({
      'waf-block-ip': z.boolean().default(false),
      'iam-disable-user': z.boolean().default(false),
      'ec2-isolate': z.boolean().default(false),
    })
    .prefault({}),
  waf: wafSchema.prefault({}),
  iam: iamSchema.prefault({}),
  ec2: ec2Schema.prefault({}),
  /** Per action. */
  rateLimit: rateLimitSchema.prefault({}),
  /** After `failureThreshold` consecutive failed actions, nothing is applied for `openSeconds`. */
  circuitBreaker: z
    .strictObject({
      failureThreshold: z.number().int().min(1).default(5),
      openSeconds: z.number().int().min(1).default(300),
    })
    .prefault({}),
  /** Append-only JSONL: who asked, what was planned, what was done, AWS request ids. */
  auditLog: z.string().min(1).default('audit/actions.jsonl'),
  /** Append-only JSONL of applied actions: idempotency keys, prior state for undo, TTL expiry. */
  stateFile: z.string().min(1).default('audit/state.jsonl'),
  /** How often `webhook serve` removes expired WAF blocks; 0 turns the timer off. */
  sweepIntervalSeconds: z.number().int().min(0).default(60),
});
export type RespondConfig = z.infer<typeof respondConfigSchema>;
