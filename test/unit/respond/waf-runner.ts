import { validateConfig } from '../../../src/config/index.js';
import { MemoryAuditLog } from '../../../src/respond/audit.js';
import { ResponseRunner, type RunnerDeps } from '../../../src/respond/runner.js';
import type { ActionStore } from '../../../src/respond/store.js';
import { WafBlockResponder } from '../../../src/respond/waf.js';
import { FakeWaf } from './fake-waf.js';

/**
 * A live (not dry-run) runner with the WAF responder over an in-memory IP set (`waf`, fresh unless given),
 * blocks held for an hour unless `respond` says otherwise, and an in-memory audit log.
 */
export function wafRunner(options: {
  store: ActionStore;
  respond?: Record<string, unknown>;
  waf?: FakeWaf;
  log?: RunnerDeps['log'];
  now?: () => Date;
  /** The webhook section, for a receiver over this runner. */
  webhook?: Record<string, unknown>;
}) {
  const config = validateConfig({
    ...(options.webhook ? { webhook: options.webhook } : {}),
    respond: {
      dryRun: false,
      enabled: { 'waf-block-ip': true },
      waf: { ipv4Set: { name: 'blocked-v4', id: 'id-4' }, ttlSeconds: 3600 },
      ...options.respond,
    },
  });
  const waf = options.waf ?? new FakeWaf();
  const audit = new MemoryAuditLog();
  const runner = new ResponseRunner(config.respond, {
    responders: {
      'waf-block-ip': new WafBlockResponder({
        client: waf.client,
        config: config.respond.waf,
        sleep: async () => {},
      }),
    },
    store: options.store,
    audit,
    log: options.log,
    ...(options.now ? { now: options.now } : {}),
  });
  return { runner, waf, audit, config };
}
