import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../src/bench/index.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const run = promisify(execFile);

async function bench(args: string[]): Promise<{ stdout: string; stderr: string }> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ASC_')));
  return run(path.join(repo, 'node_modules/.bin/tsx'), ['src/cli.ts', 'bench', ...args], {
    cwd: repo,
    env,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 600_000,
  });
}

/** The names under which the report carries a measurement (as opposed to a count or a setting). */
const FIGURES = new Set([
  'seconds',
  'recordsPerSecond',
  'mbPerSecond',
  'mibPerSecond',
  'mibPerCpuSecond',
  'cpuSeconds',
  'cpuSecondsPerMillionRecords',
  'cpuMicrosPerEvent',
  'cpuMicrosPerDoc',
  'eventsPerSecond',
  'docsPerSecond',
  'ratio',
  'serialiseRatio',
  'peakRssBytes',
  'p50Seconds',
  'p99Seconds',
  'maxSeconds',
]);

/** Every measured figure anywhere in `value`, with its path. */
function figures(value: unknown, at = '$'): [string, unknown][] {
  if (Array.isArray(value)) return value.flatMap((v, i) => figures(v, `${at}[${i}]`));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const here = `${at}.${k}`;
    if (FIGURES.has(k) && !Array.isArray(v)) return [[here, v] as [string, unknown]];
    if (FIGURES.has(k) && Array.isArray(v)) return v.map((x, i) => [`${here}[${i}]`, x] as [string, unknown]);
    return figures(v, here);
  });
}

describe('aws-siem-connector bench --size small', () => {
  let report: BenchReport;

  beforeAll(async () => {
    const { stdout } = await bench(['--size', 'small', '--json', '--services']);
    report = JSON.parse(stdout) as BenchReport;
  }, 600_000);

  it('measures every part against the test services, in one report', () => {
    expect(report.tool).toBe('aws-siem-connector bench');
    expect(report.size).toBe('small');
    expect(report.endpoints).toEqual({ moto: true, search: true, hec: true });
    const statuses = Object.fromEntries(
      Object.entries(report.parts).map(([name, p]) => [
        name,
        p.status === 'failed' ? `failed: ${p.error}` : p.status,
      ]),
    );
    expect(statuses).toEqual({
      mapping: 'measured',
      hec: 'measured',
      search: 'measured',
      pipeline: 'measured',
      inFlightScaling: 'measured',
      objectSizeScaling: 'measured',
      memory: 'measured',
      scaleOut: 'measured',
      objectLatency: 'measured',
      alertLatency: 'measured',
    });
  });

  it('has the figures the issue asks for, side by side', () => {
    const p = report.parts;
    if (p.mapping.status !== 'measured' || p.pipeline.status !== 'measured') throw new Error('not measured');
    expect(p.mapping.result.map((m) => m.logType)).toEqual(['cloudtrail', 'vpcflow']);
    // Serialising the finished documents is part of mapping them, so it can only take less time.
    for (const m of p.mapping.result) expect(m.serialiseRatio, m.logType).toBeLessThan(m.ratio);
    // Each sink alone, and with in-stream detection over every record (the default of `run`).
    expect(p.pipeline.result.map((r) => [r.sink, r.detection])).toEqual([
      ['search', false],
      ['search', true],
      ['hec', false],
      ['hec', true],
    ]);
    for (const r of p.pipeline.result) expect(r.alerts > 0, `${r.sink} alerts`).toBe(r.detection);
    if (p.inFlightScaling.status !== 'measured') throw new Error('not measured');
    expect(p.inFlightScaling.result.map((r) => r.maxInFlightObjects)).toEqual([1, 4, 16, 64]);
    if (p.scaleOut.status !== 'measured') throw new Error('not measured');
    expect(p.scaleOut.result.map((r) => r.processes)).toEqual([1, 2, 4]);
    if (p.hec.status !== 'measured' || p.search.status !== 'measured') throw new Error('not measured');
    expect(p.hec.result.some((r) => r.name.startsWith('splunk-logging'))).toBe(true);
    // Also through a receiver that refuses some posts with 503: our sink resends them and loses nothing.
    const busy = p.hec.result.filter((r) => r.name.includes('receiver busy'));
    expect(busy.map((r) => r.name.split(' ')[0])).toEqual(['splunk-logging', 'aws-siem-connector']);
    for (const r of p.hec.result.filter((r) => r.name.startsWith('aws-siem-connector')))
      expect(r.delivered, r.name).toBe(r.events);
    expect(busy[1]?.note).toMatch(/^[1-9]\d* event posts refused with 503/);
    expect(p.search.result.map((r) => r.name)).toEqual(['search sink', 'opensearch helpers.bulk']);
    if (p.objectLatency.status !== 'measured') throw new Error('not measured');
    expect(p.objectLatency.result.searchable?.refreshInterval).toMatch(/^\d+(ms|s)$/);
  });

  it('every measured figure is a positive, finite number', () => {
    const all = figures(report.parts);
    expect(all.length).toBeGreaterThan(100);
    const bad = all.filter(([, v]) => typeof v !== 'number' || !Number.isFinite(v) || v <= 0);
    expect(bad).toEqual([]);
  });

  it('loses and doubles nothing: every record acknowledged, every id once in OpenSearch with 1, 2 and 4 consumers', () => {
    const p = report.parts;
    if (p.pipeline.status !== 'measured' || p.scaleOut.status !== 'measured') throw new Error('not measured');
    for (const r of p.pipeline.result) expect(r.acked, r.sink).toBe(r.records);
    for (const r of p.scaleOut.result) {
      expect({
        processes: r.processes,
        docs: r.docs,
        distinct: r.distinctIds,
        lost: r.lost,
        doubled: r.doubled,
      }).toEqual({
        processes: r.processes,
        docs: r.records,
        distinct: r.records,
        lost: 0,
        doubled: 0,
      });
    }
    if (p.objectLatency.status !== 'measured') throw new Error('not measured');
    expect(p.objectLatency.result.searchable?.missing).toBe(0);
    expect(p.objectLatency.result.searchIndexed?.missing).toBe(0);
    expect(p.objectLatency.result.hecAccepted?.missing).toBe(0);
  });

  it('prints each goal beside its measured figure and never fails on one', () => {
    expect(report.goals.length).toBe(11);
    for (const g of report.goals) {
      expect(typeof g.measured, g.goal).toBe('number');
      expect(typeof g.met, g.goal).toBe('boolean');
    }
  });
});

describe('aws-siem-connector bench without endpoints', () => {
  it('runs the offline parts, says which parts were skipped and why, and prints a table', async () => {
    const { stdout } = await bench(['--size', 'small']);
    expect(stdout).toContain('Decode + map vs floor');
    expect(stdout).toMatch(/cloudtrail\s+[\d.]+\s+[\d,]+/);
    expect(stdout).toContain('skipped: no HEC endpoint (give --hec URL and --hec-token T, or --services');
    expect(stdout).toContain('skipped: no S3/SQS (moto) endpoint');
    expect(stdout).toContain('Goals (reported, never enforced)');
    expect(stdout).toMatch(/alert → WAF block p50 < 1 s\s+—\s+not measured/);
  }, 120_000);
});
