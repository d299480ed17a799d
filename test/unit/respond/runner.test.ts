import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../src/config/index.js';
import { JsonlAuditLog, MemoryAuditLog } from '../../../src/respond/audit.js';
import { afterChanges } from '../../../src/respond/errors.js';
import { ResponseRunner } from '../../../src/respond/runner.js';
import { type ActionRecord, JsonlActionStore } from '../../../src/respond/store.js';
import type { Responder } from '../../../src/respond/types.js';
import { WafBlockResponder } from '../../../src/respond/waf.js';
import { FakeWaf } from './fake-waf.js';
import { wafRunner } from './waf-runner.js';

const requester = { source: 'webhook:kibana', rule: 'brute force' };

function setup(respond: Record<string, unknown> = {}, opts: { file?: string; clock?: { t: number } } = {}) {
  const store = new JsonlActionStore(opts.file);
  const clock = opts.clock ?? { t: Date.parse('2026-01-01T00:00:00Z') };
  const { runner, waf, audit, config } = wafRunner({ respond, store, now: () => new Date(clock.t) });
  return { runner, waf, audit, store, clock, config };
}

const block = (alertId: string, target = '45.155.204.10') => ({
  action: 'waf-block-ip' as const,
  target,
  alertId,
  requester,
  mode: 'auto' as const,
});

describe('ResponseRunner', () => {
  it('plans only while dry-run is on, and changes nothing', async () => {
    const { runner, waf, audit } = setup({ dryRun: true });
    const outcome = await runner.run(block('a1'));
    expect(outcome).toMatchObject({
      status: 'planned',
      target: '45.155.204.10/32',
      reason: expect.stringContaining('dry run'),
    });
    expect(outcome.changes).toEqual(['add 45.155.204.10/32 to WAF IP set blocked-v4 (REGIONAL)']);
    expect(waf.updates).toBe(0);
    expect(audit.entries.map((e) => [e.event, e.dryRun])).toEqual([['planned', true]]);
  });

  it('stays dry-run for an action that is not enabled', async () => {
    const { runner, waf } = setup({ enabled: { 'waf-block-ip': false } });
    expect((await runner.run(block('a1'))).reason).toContain('respond.enabled.waf-block-ip is false');
    expect(waf.updates).toBe(0);
  });

  it('applies once per alert, records request ids and expiry, and audits before and after', async () => {
    const { runner, waf, audit } = setup();
    const first = await runner.run(block('a1'));
    expect(first).toMatchObject({
      status: 'applied',
      requestIds: ['req-1'],
      expiresAt: '2026-01-01T01:00:00.000Z',
    });
    expect(waf.addresses).toEqual(['45.155.204.10/32']);
    const again = await runner.run(block('a1', '45.155.204.10/32'));
    expect(again).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('already applied for alert a1'),
    });
    expect(waf.updates).toBe(1);
    expect(audit.entries.map((e) => e.event)).toEqual(['applying', 'applied', 'skipped']);
    expect(audit.entries[1]).toMatchObject({
      alertId: 'a1',
      requester,
      requestIds: ['req-1'],
      dryRun: false,
    });
  });

  it('acts once when two copies of the same alert arrive together', async () => {
    const { runner, waf } = setup();
    const outcomes = await Promise.all([runner.run(block('a1')), runner.run(block('a1'))]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['applied', 'skipped']);
    expect(waf.updates).toBe(1);
  });

  it('reports unchanged for a second alert on an address already blocked, and undo keeps what others added', async () => {
    const { runner, waf } = setup();
    waf.addresses = ['45.155.204.10/32'];
    const outcome = await runner.run(block('a2'));
    expect(outcome.status).toBe('unchanged');
    const undo = await runner.undo('waf-block-ip', '45.155.204.10', { source: 'cli' });
    expect(undo.status).toBe('unchanged');
    expect(waf.addresses).toEqual(['45.155.204.10/32']);
  });

  it('retries the update after a lock conflict by re-reading the set', async () => {
    const { config } = setup();
    const waf = new FakeWaf();
    waf.addresses = ['1.1.1.1/32'];
    let conflicts = 0;
    const responder = new WafBlockResponder({
      client: waf.client,
      config: config.respond.waf,
      sleep: async () => {},
      beforeUpdate: async (attempt) => {
        if (attempt === 1) {
          // Another writer adds an address between our read and our write.
          waf.addresses = [...waf.addresses, '9.9.9.9/32'];
          waf.bump();
          conflicts += 1;
        }
      },
    });
    const plan = await responder.plan('45.155.204.10');
    const result = await responder.apply(plan);
    expect(conflicts).toBe(1);
    expect(result.prior).toEqual({ cidr: '45.155.204.10/32', version: 4, added: true });
    expect(waf.addresses.sort()).toEqual(['1.1.1.1/32', '45.155.204.10/32', '9.9.9.9/32']);
  });

  it('refuses guardrail targets without calling AWS', async () => {
    const { runner, waf, audit } = setup();
    for (const target of ['10.0.0.5', '0.0.0.0/0', '127.0.0.1']) {
      expect((await runner.run(block(`a-${target}`, target))).status).toBe('refused');
    }
    expect(waf.updates).toBe(0);
    expect(audit.entries.every((e) => e.event === 'refused')).toBe(true);
  });

  it('refuses when the IP set is at its configured maximum', async () => {
    const { runner, waf } = setup({
      waf: { ipv4Set: { name: 'blocked-v4', id: 'id-4' }, maxAddresses: 2 },
    });
    waf.addresses = ['1.1.1.1/32', '1.0.0.1/32'];
    const outcome = await runner.run(block('a1'));
    expect(outcome).toMatchObject({
      status: 'refused',
      reason: expect.stringContaining('configured maximum 2'),
    });
    expect(waf.updates).toBe(0);
  });

  it('rate-limits per action', async () => {
    const { runner, waf, clock } = setup({ rateLimit: { max: 2, windowSeconds: 60 } });
    const statuses = [];
    for (const ip of ['45.155.204.1', '45.155.204.2', '45.155.204.3'])
      statuses.push((await runner.run(block(`a-${ip}`, ip))).status);
    expect(statuses).toEqual(['applied', 'applied', 'skipped']);
    clock.t += 61_000;
    expect((await runner.run(block('a-4', '45.155.204.4'))).status).toBe('applied');
    expect(waf.updates).toBe(3);
  });

  it('opens the circuit after consecutive failures, then lets one try through', async () => {
    const { runner, waf, clock } = setup({ circuitBreaker: { failureThreshold: 2, openSeconds: 60 } });
    waf.failNext = 2;
    expect((await runner.run(block('a1', '45.155.204.1'))).status).toBe('failed');
    expect((await runner.run(block('a2', '45.155.204.2'))).status).toBe('failed');
    const open = await runner.run(block('a3', '45.155.204.3'));
    expect(open).toMatchObject({
      status: 'skipped',
      reason: expect.stringContaining('circuit breaker open'),
    });
    clock.t += 61_000;
    expect((await runner.run(block('a4', '45.155.204.4'))).status).toBe('applied');
  });

  it('sweeps blocks whose TTL has passed, keeping a target blocked while any block of it is live', async () => {
    const { runner, waf, clock } = setup();
    await runner.run(block('a1', '45.155.204.1'));
    await runner.run({ ...block('a2', '45.155.204.2'), ttlSeconds: 0 });
    clock.t += 1800_000;
    await runner.run({ ...block('a3', '45.155.204.1'), ttlSeconds: 7200 });
    clock.t += 1801_000;
    expect(await runner.sweep()).toEqual([]);
    clock.t += 7200_000;
    const swept = await runner.sweep();
    expect(swept.map((o) => [o.target, o.status])).toEqual([['45.155.204.1/32', 'undone']]);
    expect(waf.addresses).toEqual(['45.155.204.2/32']);
    expect(await runner.sweep()).toEqual([]);
  });

  it('persists records so another process can undo, and writes the audit log as JSONL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-respond-'));
    const file = join(dir, 'state.jsonl');
    const first = setup({}, { file });
    await first.runner.run(block('a1'));
    const config = first.config;
    const auditFile = join(dir, 'audit.jsonl');
    const second = new ResponseRunner(config.respond, {
      responders: {
        'waf-block-ip': new WafBlockResponder({ client: first.waf.client, config: config.respond.waf }),
      },
      store: new JsonlActionStore(file),
      audit: new JsonlAuditLog(auditFile),
    });
    expect((await second.run(block('a1'))).status).toBe('skipped');
    const undone = await second.undo('waf-block-ip', '45.155.204.10', { source: 'cli', user: 'alice' });
    expect(undone).toMatchObject({
      status: 'undone',
      changes: ['remove 45.155.204.10/32 from WAF IP set blocked-v4'],
    });
    expect(first.waf.addresses).toEqual([]);
    expect(await new JsonlActionStore(file).active('waf-block-ip', '45.155.204.10/32')).toEqual([]);
    const lines = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event)).toEqual(['skipped', 'undoing', 'undone']);
    expect(lines[2].requester).toEqual({ source: 'cli', user: 'alice' });
  });

  it('never reports plan mode as a change', async () => {
    const { runner, waf } = setup();
    const outcome = await runner.run({ ...block('a1'), mode: 'plan' });
    expect(outcome).toMatchObject({ status: 'planned', reason: 'plan only' });
    expect(waf.updates).toBe(0);
  });

  it('acts again for an alert whose earlier action was undone', async () => {
    const { runner, waf } = setup();
    await runner.run(block('a1'));
    await runner.undo('waf-block-ip', '45.155.204.10', { source: 'sweeper', rule: 'ttl expired' });
    expect(waf.addresses).toEqual([]);
    expect((await runner.run(block('a1'))).status).toBe('applied');
    expect(waf.addresses).toEqual(['45.155.204.10/32']);
  });

  it('undoes a block of an address that a guardrail added since protects, and still refuses new blocks of it', async () => {
    const { runner, waf, store } = setup();
    await runner.run(block('a1'));
    const stricter = validateConfig({
      respond: {
        dryRun: false,
        enabled: { 'waf-block-ip': true },
        waf: { ipv4Set: { name: 'blocked-v4', id: 'id-4' }, allowList: ['45.155.204.0/24'] },
      },
    });
    const later = new ResponseRunner(stricter.respond, {
      responders: {
        'waf-block-ip': new WafBlockResponder({ client: waf.client, config: stricter.respond.waf }),
      },
      store,
      audit: new MemoryAuditLog(),
    });
    expect((await later.run(block('a2'))).status).toBe('refused');
    expect((await later.undo('waf-block-ip', '45.155.204.10', { source: 'cli' })).status).toBe('undone');
    expect(waf.addresses).toEqual([]);
  });

  it('changes nothing when the audit log cannot be written', async () => {
    const { config, waf } = setup();
    const runner = new ResponseRunner(config.respond, {
      responders: {
        'waf-block-ip': new WafBlockResponder({ client: waf.client, config: config.respond.waf }),
      },
      store: new JsonlActionStore(),
      audit: {
        write() {
          throw new Error('disk full');
        },
      },
    });
    const outcome = await runner.run(block('a1'));
    expect(outcome).toMatchObject({ status: 'failed', reason: expect.stringContaining('audit log') });
    expect(waf.updates).toBe(0);
  });

  it('reports an action applied but not recorded as failed, without throwing', async () => {
    const { config, waf } = setup();
    const store = new JsonlActionStore();
    store.add = async (_record: ActionRecord) => {
      throw new Error('read-only file system');
    };
    const runner = new ResponseRunner(config.respond, {
      responders: {
        'waf-block-ip': new WafBlockResponder({ client: waf.client, config: config.respond.waf }),
      },
      store,
      audit: new MemoryAuditLog(),
    });
    const outcome = await runner.run(block('a1'));
    expect(outcome).toMatchObject({ status: 'failed', reason: expect.stringContaining('action store') });
    expect(outcome.changes).toEqual(['add 45.155.204.10/32 to WAF IP set blocked-v4 (REGIONAL)']);
    expect(waf.addresses).toEqual(['45.155.204.10/32']);
  });

  it('records a half-done action so that undo reverts it, and a retry of the alert completes it', async () => {
    // Two steps, the second of which fails once: the shape of a user disable that fails on its second key.
    const state = { first: false, second: false };
    let failSecond = true;
    type Prior = { first: boolean; second: boolean };
    const twoSteps: Responder<null, Prior> = {
      action: 'iam-disable-user',
      normalise: (target) => target,
      guard: () => {},
      async plan(target) {
        const changes = [...(state.first ? [] : ['first']), ...(state.second ? [] : ['second'])];
        return { action: 'iam-disable-user', target, changes, warnings: [], detail: null };
      },
      async apply() {
        const prior = { first: false, second: false };
        const changes: string[] = [];
        try {
          if (!state.first) {
            state.first = prior.first = true;
            changes.push('first');
          }
          if (!state.second) {
            if (failSecond) {
              failSecond = false;
              throw new Error('Throttling');
            }
            state.second = prior.second = true;
            changes.push('second');
          }
        } catch (err) {
          throw afterChanges(err, { prior, changes, requestIds: [] });
        }
        return { changes, requestIds: [], prior };
      },
      async undo(prior) {
        const changes: string[] = [];
        if (prior.second) {
          state.second = false;
          changes.push('revert second');
        }
        if (prior.first) {
          state.first = false;
          changes.push('revert first');
        }
        return { changes, requestIds: [], warnings: [] };
      },
    };
    const config = validateConfig({ respond: { dryRun: false, enabled: { 'iam-disable-user': true } } });
    const runner = new ResponseRunner(config.respond, {
      responders: { 'iam-disable-user': twoSteps as Responder },
      store: new JsonlActionStore(),
      audit: new MemoryAuditLog(),
    });
    const disable = { ...block('a1', 'user/mallory'), action: 'iam-disable-user' as const };

    const first = await runner.run(disable);
    expect(first).toMatchObject({ status: 'failed', changes: ['first'] });
    expect(first.reason).toContain('respond undo reverts them');
    const retry = await runner.run(disable);
    expect(retry).toMatchObject({ status: 'applied', changes: ['second'] });
    expect(state).toEqual({ first: true, second: true });

    const undone = await runner.undo('iam-disable-user', 'user/mallory', { source: 'cli' });
    expect(undone).toMatchObject({ status: 'undone', changes: ['revert second', 'revert first'] });
    expect(state).toEqual({ first: false, second: false });
  });
});
