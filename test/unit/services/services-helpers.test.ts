// The test-services helpers whose failures would otherwise only show up as a confusing CI run.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hecEventsFromOtlpLine } from '../../services/endpoints.js';
import { ServiceError, spawnDetached, stopProcessGroup, waitUntilHealthy } from '../../services/process.js';

describe('waitUntilHealthy', () => {
  it('fails at once, naming the service and its log, when the process exits before it is healthy', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'asc-services-'));
    const logFile = path.join(dir, 'broken.log');
    const { pid } = await spawnDetached(
      process.execPath,
      ['-e', 'console.log("bind: address already in use"); process.exit(3)'],
      { logFile, cwd: dir },
    );
    const started = Date.now();
    const failure = await waitUntilHealthy('Broken service', async () => false, {
      pid,
      logFile,
      timeoutMs: 60_000,
      intervalMs: 50,
    }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ServiceError);
    const message = (failure as ServiceError).message;
    expect(message).toContain('Broken service');
    expect(message).toContain(`exited before it became healthy`);
    expect(message).toContain(logFile);
    // The log tail is part of the message, so CI output shows the cause without opening files.
    expect(message).toContain('bind: address already in use');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('times out with the service name when a live process never answers', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'asc-services-'));
    const logFile = path.join(dir, 'silent.log');
    const { pid } = await spawnDetached(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], {
      logFile,
      cwd: dir,
    });
    try {
      await expect(
        waitUntilHealthy('Silent service', async () => false, {
          pid,
          logFile,
          timeoutMs: 300,
          intervalMs: 50,
        }),
      ).rejects.toThrow(/Silent service: not healthy after 0s \(pid \d+ still running\)/);
    } finally {
      await stopProcessGroup(pid, 2_000);
    }
  });

  it('resolves as soon as the probe answers', async () => {
    let calls = 0;
    await waitUntilHealthy('Ready service', async () => ++calls >= 3, {
      pid: process.pid,
      logFile: '/nonexistent.log',
      timeoutMs: 10_000,
      intervalMs: 10,
    });
    expect(calls).toBe(3);
  });
});

describe('hecEventsFromOtlpLine', () => {
  // Shape written by the collector's file exporter for two HEC events in one request.
  const line = JSON.stringify({
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: 'host.name', value: { stringValue: 'h1' } },
            { key: 'com.splunk.source', value: { stringValue: 's1' } },
            { key: 'com.splunk.sourcetype', value: { stringValue: 'aws:cloudtrail' } },
            { key: 'com.splunk.index', value: { stringValue: 'main' } },
          ],
        },
        scopeLogs: [
          {
            scope: {},
            logRecords: [
              {
                timeUnixNano: '1764324000249999872',
                body: {
                  kvlistValue: {
                    values: [
                      { key: 'a', value: { doubleValue: 1 } },
                      {
                        key: 'tags',
                        value: { arrayValue: { values: [{ stringValue: 'x' }, { boolValue: true }] } },
                      },
                      { key: 'n', value: { intValue: '42' } },
                    ],
                  },
                },
                attributes: [{ key: 'account', value: { stringValue: '123' } }],
              },
            ],
          },
        ],
      },
      { resource: {}, scopeLogs: [{ scope: {}, logRecords: [{ body: { stringValue: 'plain' } }] }] },
    ],
  });

  it('restores event, time, metadata and indexed fields', () => {
    expect(hecEventsFromOtlpLine(line, 99)).toEqual([
      {
        event: { a: 1, tags: ['x', true], n: 42 },
        time: 1764324000.25,
        host: 'h1',
        source: 's1',
        sourcetype: 'aws:cloudtrail',
        index: 'main',
        fields: { account: '123' },
        endOffset: 99,
      },
      { event: 'plain', fields: {}, endOffset: 99 },
    ]);
  });
});

describe('state lock', () => {
  it('serialises callers and takes over a lock left by a dead process', async () => {
    const { withServicesLock } = await import('../../services/state.js');
    const lockPath = path.join(await mkdtemp(path.join(tmpdir(), 'asc-services-')), 'lock');
    await writeFile(lockPath, '2147483646'); // no such pid
    const order: string[] = [];
    await Promise.all([
      withServicesLock(
        async () => {
          order.push('a-in');
          await new Promise((resolve) => setTimeout(resolve, 50));
          order.push('a-out');
        },
        { lockPath },
      ),
      withServicesLock(
        async () => {
          order.push('b-in');
          order.push('b-out');
        },
        { lockPath },
      ),
    ]);
    expect(order.join(',')).toMatch(/^(a-in,a-out,b-in,b-out|b-in,b-out,a-in,a-out)$/);
    await expect(readFile(lockPath, 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
