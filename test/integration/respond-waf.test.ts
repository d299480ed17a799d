import { readFileSync } from 'node:fs';
import { GetIPSetCommand, UpdateIPSetCommand } from '@aws-sdk/client-wafv2';
import { beforeAll, describe, expect, it } from 'vitest';
import { createIpSets, liveRunner, motoClients, runId } from './respond-helpers.js';

const requester = { source: 'webhook:kibana', rule: 'AWS Console Brute Force' };
const { clients } = motoClients();
let sets: Awaited<ReturnType<typeof createIpSets>>;

async function read(set: { name: string; id: string }) {
  const out = await clients.waf.send(new GetIPSetCommand({ Name: set.name, Id: set.id, Scope: 'REGIONAL' }));
  return {
    addresses: out.IPSet?.Addresses ?? [],
    lockToken: out.LockToken,
    description: out.IPSet?.Description,
  };
}

beforeAll(async () => {
  sets = await createIpSets(clients, `asc-it-${runId}`);
});

describe('WAF block against moto', () => {
  it('blocks, is idempotent, and undoes, read back from WAF each time', async () => {
    const { runner } = liveRunner({ waf: { ...sets } });
    const applied = await runner.run({
      action: 'waf-block-ip',
      target: '45.155.204.10',
      alertId: 'k-1',
      requester,
      mode: 'auto',
    });
    expect(applied).toMatchObject({ status: 'applied', target: '45.155.204.10/32' });
    expect(applied.requestIds.length).toBe(1);
    let state = await read(sets.ipv4Set);
    expect(state.addresses).toEqual(['45.155.204.10/32']);
    expect(state.description).toBe('blocked by aws-siem-connector');

    const repeat = await runner.run({
      action: 'waf-block-ip',
      target: '45.155.204.10/32',
      alertId: 'k-1',
      requester,
      mode: 'auto',
    });
    expect(repeat.status).toBe('skipped');
    const tokenBefore = (await read(sets.ipv4Set)).lockToken;
    const other = await runner.run({
      action: 'waf-block-ip',
      target: '45.155.204.10',
      alertId: 'k-2',
      requester,
      mode: 'auto',
    });
    expect(other.status).toBe('unchanged');
    expect((await read(sets.ipv4Set)).lockToken).toBe(tokenBefore);

    const undone = await runner.undo('waf-block-ip', '45.155.204.10', { source: 'cli', user: 'it' });
    expect(undone.status).toBe('undone');
    state = await read(sets.ipv4Set);
    expect(state.addresses).toEqual([]);
    expect((await runner.undo('waf-block-ip', '45.155.204.10', { source: 'cli' })).status).toBe('unchanged');
  });

  it('blocks IPv6 in the IPv6 set as /128', async () => {
    const { runner } = liveRunner({ waf: { ...sets } });
    const outcome = await runner.run({
      action: 'waf-block-ip',
      target: '2a01:4f8:c17:1:0:0:0:5',
      alertId: 'k-6',
      requester,
      mode: 'auto',
    });
    expect(outcome.status).toBe('applied');
    expect((await read(sets.ipv6Set)).addresses).toEqual(['2a01:4f8:c17:1::5/128']);
    await runner.undo('waf-block-ip', '2a01:4f8:c17:1::5', { source: 'cli' });
    expect((await read(sets.ipv6Set)).addresses).toEqual([]);
  });

  it('refuses private, 0.0.0.0/0 and allow-listed targets and leaves the set untouched', async () => {
    const { runner, config } = liveRunner({ waf: { ...sets, allowList: ['52.94.0.0/22'] } });
    const before = await read(sets.ipv4Set);
    for (const target of ['10.1.2.3', '0.0.0.0/0', '52.94.1.7', '192.168.10.20']) {
      const outcome = await runner.run({
        action: 'waf-block-ip',
        target,
        alertId: `r-${target}`,
        requester,
        mode: 'auto',
      });
      expect(outcome.status, target).toBe('refused');
    }
    const after = await read(sets.ipv4Set);
    expect(after).toEqual(before);
    const audit = readFileSync(config.respond.auditLog!, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(audit.map((a) => a.event)).toEqual(['refused', 'refused', 'refused', 'refused']);
  });

  it('retries after a real lock conflict from another writer', async () => {
    let conflicts = 0;
    const { runner } = liveRunner(
      { waf: { ...sets } },
      {
        wafBeforeUpdate: async (attempt) => {
          if (attempt !== 1) return;
          // Another writer updates the set between our GetIPSet and UpdateIPSet: our token goes stale.
          const current = await read(sets.ipv4Set);
          await clients.waf.send(
            new UpdateIPSetCommand({
              Name: sets.ipv4Set.name,
              Id: sets.ipv4Set.id,
              Scope: 'REGIONAL',
              Addresses: [...current.addresses, '9.9.9.9/32'],
              LockToken: current.lockToken,
              Description: current.description,
            }),
          );
          conflicts += 1;
        },
      },
    );
    const outcome = await runner.run({
      action: 'waf-block-ip',
      target: '45.155.204.30',
      alertId: 'lock-1',
      requester,
      mode: 'auto',
    });
    expect(outcome.status).toBe('applied');
    expect(conflicts).toBe(1);
    expect((await read(sets.ipv4Set)).addresses.sort()).toEqual(['45.155.204.30/32', '9.9.9.9/32']);
    await runner.undo('waf-block-ip', '45.155.204.30', { source: 'cli' });
    expect((await read(sets.ipv4Set)).addresses).toEqual(['9.9.9.9/32']);
  });

  it('sweeps a block once its TTL has passed', async () => {
    const clock = { t: Date.now() };
    const { runner } = liveRunner({ waf: { ...sets, ttlSeconds: 900 } }, { now: () => new Date(clock.t) });
    await runner.run({
      action: 'waf-block-ip',
      target: '45.155.204.40',
      alertId: 'ttl-1',
      requester,
      mode: 'auto',
    });
    expect(await runner.sweep()).toEqual([]);
    expect((await read(sets.ipv4Set)).addresses).toContain('45.155.204.40/32');
    clock.t += 901_000;
    const swept = await runner.sweep();
    expect(swept.map((o) => o.status)).toEqual(['undone']);
    expect((await read(sets.ipv4Set)).addresses).not.toContain('45.155.204.40/32');
  });

  it('changes nothing in dry-run', async () => {
    const { runner } = liveRunner({ dryRun: true, waf: { ...sets } });
    const before = await read(sets.ipv4Set);
    const outcome = await runner.run({
      action: 'waf-block-ip',
      target: '45.155.204.50',
      alertId: 'dry-1',
      requester,
      mode: 'auto',
    });
    expect(outcome.status).toBe('planned');
    expect(await read(sets.ipv4Set)).toEqual(before);
  });
});
