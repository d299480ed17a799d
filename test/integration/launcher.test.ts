import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { childrenOf } from '../../src/bench/scale-out.js';
import { cloudTrailObjectText, generateCloudTrailRecords } from '../../src/samples/index.js';
import { createLogBucket, putObject, queueDepth, waitFor } from './support/aws.js';
import { startBlackHole } from './support/black-hole.js';
import { spawnCli, writeConfig } from './support/cli.js';

function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function consumerConfig(group: string): Promise<string> {
  const target = await createLogBucket();
  return writeConfig(group, (dir) => ({
    aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
    source: { sqs: { queueUrls: [target.queueUrl], waitTimeSeconds: 1 } },
    sinks: { file: { dir: join(dir, 'out') } },
    deadLetter: { dir: join(dir, 'dead-letter') },
    detection: { enabled: false },
    observe: { metricsPort: 0, selfReportIntervalSeconds: 0 },
  })).file;
}

describe.skipIf(process.platform !== 'linux')('run with a capped heap', () => {
  it('runs the consumer in a child with the old space capped, passes SIGTERM on and exits as it does', async () => {
    const { child, log, exited } = spawnCli(['run', '--config', await consumerConfig('test-launcher')], {
      entry: 'src/bin.ts',
    });
    try {
      await waitFor('the consumer to start', async () => log().includes('consumer started'));
      const [worker] = await childrenOf(child.pid!);
      expect(worker).toBeDefined();
      expect(commandLine(worker!)).toContain('--max-old-space-size=160');
      expect(commandLine(worker!)).toContain('--max-semi-space-size=8');
      expect(commandLine(worker!)).toContain('--heap-growing-percent=50');
      expect(commandLine(worker!)).toContain('--initial-old-space-size=64');
      expect(commandLine(worker!)).toContain('run');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(log()).toContain('stopping: no new work');
      expect(alive(worker!)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('stops gracefully when the launcher and a process manager both send SIGTERM', async () => {
    // A search node that never answers keeps the stop busy for its grace period, so the second SIGTERM
    // arrives while the consumer is still stopping.
    const blackHole = await startBlackHole();
    const target = await createLogBucket();
    const { file } = writeConfig('test-launcher', (dir) => ({
      aws: { region: 'us-east-1', endpoint: target.endpoint, forcePathStyle: true },
      source: { sqs: { queueUrls: [target.queueUrl], waitTimeSeconds: 1, shutdownGraceSeconds: 2 } },
      sinks: {
        search: {
          flavour: 'opensearch',
          node: blackHole.url,
          target: { mode: 'index', pattern: 'launcher-{logType}' },
          flushIntervalMs: 100,
          setup: { auto: false },
        },
      },
      deadLetter: { dir: join(dir, 'dead-letter') },
      detection: { enabled: false },
      observe: { metricsPort: 0, selfReportIntervalSeconds: 0 },
    }));
    const { child, log, exited } = spawnCli(['run', '--config', file], { entry: 'src/bin.ts' });
    try {
      await putObject(
        target,
        'AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/28/busy.json.gz',
        gzipSync(cloudTrailObjectText(generateCloudTrailRecords({ seed: 14_000, count: 5 }))),
      );
      await waitFor(
        'the object to be in flight',
        async () =>
          log().includes('consumer started') &&
          (await queueDepth(target.sqs, target.queueUrl)).inFlight === 1,
      );
      const [worker] = await childrenOf(child.pid!);
      expect(worker).toBeDefined();
      // What a process manager that signals every process of the service does: one SIGTERM each, the
      // launcher's copy arriving a moment after the consumer's own.
      process.kill(worker!, 'SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(log()).toContain('did not drain within the grace period');
    } finally {
      child.kill('SIGKILL');
      blackHole.close();
    }
  });

  it('leaves no consumer behind when the launcher is killed outright', async () => {
    const { child, log, exited } = spawnCli(['run', '--config', await consumerConfig('test-launcher')], {
      entry: 'src/bin.ts',
    });
    await waitFor('the consumer to start', async () => log().includes('consumer started'));
    const [worker] = await childrenOf(child.pid!);
    expect(worker).toBeDefined();
    child.kill('SIGKILL');
    await exited;
    await waitFor('the consumer to end with its launcher', async () => !alive(worker!), 10_000);
  });

  it('runs in place when the operator chose a heap size', async () => {
    const { child, log, exited } = spawnCli(['run', '--config', await consumerConfig('test-launcher')], {
      env: { NODE_OPTIONS: '--max-old-space-size=300' },
      entry: 'src/bin.ts',
    });
    try {
      await waitFor('the consumer to start', async () => log().includes('consumer started'));
      expect(await childrenOf(child.pid!)).toEqual([]);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
