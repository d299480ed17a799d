import { GetIPSetCommand, UpdateIPSetCommand, type WAFV2Client } from '@aws-sdk/client-wafv2';
import type { RespondConfig } from './config.js';
import { ActionRefusedError } from './errors.js';
import {
  type BlockCidr,
  canonicalCidr,
  guardBlockTarget,
  normaliseBlockTarget,
  parseAllowList,
  parseBlockTarget,
} from './ip.js';
import type { ApplyResult, Responder, ResponderPlan, UndoResult } from './types.js';

export interface WafPlanDetail {
  block: BlockCidr;
  setName: string;
  setId: string;
  present: boolean;
}

/** What a block changed: `added` false means the address was already there, so undo leaves it. */
export interface WafPrior {
  cidr: string;
  version: 4 | 6;
  added: boolean;
}

export interface WafResponderOptions {
  client: WAFV2Client;
  config: RespondConfig['waf'];
  /** Test hook: runs between GetIPSet and UpdateIPSet, e.g. to provoke a real lock conflict. */
  beforeUpdate?: (attempt: number) => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Blocks an address in a WAFv2 IP set. UpdateIPSet replaces the whole list and is guarded by the lock
 * token from GetIPSet, so every change is read–modify–write, repeated (with jittered back-off) when
 * another writer got in between (WAFOptimisticLockException), as AWS's WAF security automations do.
 */
export class WafBlockResponder implements Responder<WafPlanDetail, WafPrior> {
  readonly action = 'waf-block-ip' as const;
  readonly #client: WAFV2Client;
  readonly #config: RespondConfig['waf'];
  readonly #allow: ReturnType<typeof parseAllowList>;
  readonly #beforeUpdate: WafResponderOptions['beforeUpdate'];
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: WafResponderOptions) {
    this.#client = options.client;
    this.#config = options.config;
    this.#allow = parseAllowList(options.config.allowList);
    this.#beforeUpdate = options.beforeUpdate;
    this.#sleep = options.sleep ?? defaultSleep;
  }

  normalise(target: string): string {
    return parseBlockTarget(target).cidr;
  }

  guard(target: string): void {
    guardBlockTarget(parseBlockTarget(target), this.#config, this.#allow, target);
  }

  async plan(target: string): Promise<ResponderPlan<WafPlanDetail>> {
    const block = this.#block(target);
    const set = this.#set(block.version);
    const current = await this.#get(set);
    const present = current.addresses.has(block.cidr);
    if (!present && current.addresses.size >= this.#config.maxAddresses) {
      throw new ActionRefusedError(
        `IP set ${set.name} holds ${current.addresses.size} entries, the configured maximum ${this.#config.maxAddresses}`,
        { target: block.cidr, ipSet: set.name },
      );
    }
    return {
      action: this.action,
      target: block.cidr,
      changes: present ? [] : [`add ${block.cidr} to WAF IP set ${set.name} (${this.#config.scope})`],
      warnings: [],
      detail: { block, setName: set.name, setId: set.id, present },
    };
  }

  async apply(plan: ResponderPlan<WafPlanDetail>): Promise<ApplyResult<WafPrior>> {
    const { block } = plan.detail;
    const { changed, requestIds } = await this.#update(block.version, (addresses) => {
      if (addresses.has(block.cidr)) return false;
      if (addresses.size >= this.#config.maxAddresses) {
        throw new ActionRefusedError(`IP set is full (${addresses.size} entries)`, { target: block.cidr });
      }
      addresses.add(block.cidr);
      return true;
    });
    return {
      changes: changed ? plan.changes : [],
      requestIds,
      prior: { cidr: block.cidr, version: block.version, added: changed },
    };
  }

  async undo(prior: WafPrior): Promise<UndoResult> {
    if (!prior.added) {
      return {
        changes: [],
        requestIds: [],
        warnings: [`${prior.cidr} was in the set before; left in place`],
      };
    }
    const set = this.#set(prior.version);
    const { changed, requestIds } = await this.#update(prior.version, (addresses) =>
      addresses.delete(prior.cidr),
    );
    return {
      changes: changed ? [`remove ${prior.cidr} from WAF IP set ${set.name}`] : [],
      requestIds,
      warnings: [],
    };
  }

  priorWithoutRecord(target: string): WafPrior {
    const block = parseBlockTarget(target);
    return { cidr: block.cidr, version: block.version, added: true };
  }

  #block(target: string): BlockCidr {
    return normaliseBlockTarget(target, this.#config, this.#allow);
  }

  #set(version: 4 | 6): { name: string; id: string } {
    const set = version === 4 ? this.#config.ipv4Set : this.#config.ipv6Set;
    if (!set) {
      throw new ActionRefusedError(`no IPv${version} IP set is configured (respond.waf.ipv${version}Set)`);
    }
    return set;
  }

  async #get(set: { name: string; id: string }): Promise<{
    addresses: Map<string, string>;
    lockToken: string;
    description: string | undefined;
  }> {
    const out = await this.#client.send(
      new GetIPSetCommand({ Name: set.name, Id: set.id, Scope: this.#config.scope }),
    );
    // Keyed by canonical form so `1.2.3.4/32` written by hand elsewhere still matches; values keep the
    // original spelling so entries we do not touch are written back exactly as they were.
    const addresses = new Map<string, string>();
    for (const entry of out.IPSet?.Addresses ?? []) addresses.set(canonicalCidr(entry) ?? entry, entry);
    return { addresses, lockToken: out.LockToken ?? '', description: out.IPSet?.Description };
  }

  async #update(
    version: 4 | 6,
    mutate: (addresses: Set<string>) => boolean,
  ): Promise<{ changed: boolean; requestIds: string[] }> {
    const set = this.#set(version);
    const requestIds: string[] = [];
    for (let attempt = 1; ; attempt++) {
      const current = await this.#get(set);
      const keys = new Set(current.addresses.keys());
      if (!mutate(keys)) return { changed: false, requestIds };
      const addresses = [...keys].map((key) => current.addresses.get(key) ?? key);
      await this.#beforeUpdate?.(attempt);
      try {
        const out = await this.#client.send(
          new UpdateIPSetCommand({
            Name: set.name,
            Id: set.id,
            Scope: this.#config.scope,
            Addresses: addresses,
            LockToken: current.lockToken,
            // UpdateIPSet replaces every mutable field; an omitted description would be wiped.
            ...(current.description === undefined ? {} : { Description: current.description }),
          }),
        );
        if (out.$metadata.requestId) requestIds.push(out.$metadata.requestId);
        return { changed: true, requestIds };
      } catch (err) {
        if ((err as Error).name !== 'WAFOptimisticLockException' || attempt >= this.#config.lockRetries)
          throw err;
        // Full jitter: concurrent responders that collided should not collide again in lockstep.
        await this.#sleep(Math.random() * Math.min(2000, 100 * 2 ** attempt));
      }
    }
  }
}
