import type { HecBenchResult } from './hec.js';
import type { AlertLatencyResult, LatencyFigures, ObjectLatencyResult } from './latency.js';
import type { MappingBenchResult } from './mapping.js';
import type { RunMemoryResult } from './memory.js';
import type { PipelineRunResult } from './pipeline.js';
import type { ScaleOutResult } from './scale-out.js';
import type { SearchBenchResult } from './search.js';

/** A part of the bench either measured something, was skipped (missing service, with the reason) or failed. */
export type BenchPart<T> =
  | { status: 'measured'; seconds: number; result: T }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; error: string };

export type BenchSize = 'small' | 'medium' | 'full';

export interface BenchParts {
  mapping: BenchPart<MappingBenchResult[]>;
  hec: BenchPart<HecBenchResult[]>;
  search: BenchPart<SearchBenchResult[]>;
  pipeline: BenchPart<PipelineRunResult[]>;
  inFlightScaling: BenchPart<PipelineRunResult[]>;
  objectSizeScaling: BenchPart<PipelineRunResult[]>;
  memory: BenchPart<RunMemoryResult[]>;
  scaleOut: BenchPart<ScaleOutResult[]>;
  objectLatency: BenchPart<ObjectLatencyResult>;
  alertLatency: BenchPart<AlertLatencyResult>;
}

/** A goal printed beside its figure. The bench never fails on a goal: `met` is information. */
export interface GoalCheck {
  goal: string;
  measured: number | null;
  unit: string;
  met: boolean | null;
}

export interface BenchReport {
  tool: 'aws-siem-connector bench';
  version: string;
  size: BenchSize;
  startedAt: string;
  seconds: number;
  machine: { node: string; platform: string; cpus: number; cpuModel: string; totalMemoryBytes: number };
  endpoints: { moto: boolean; search: boolean; hec: boolean };
  parts: BenchParts;
  goals: GoalCheck[];
}

function measured<T>(part: BenchPart<T>): T | undefined {
  return part.status === 'measured' ? part.result : undefined;
}

function goal(name: string, value: number | undefined, unit: string, met: (v: number) => boolean): GoalCheck {
  return value === undefined || !Number.isFinite(value)
    ? { goal: name, measured: null, unit, met: null }
    : { goal: name, measured: value, unit, met: met(value) };
}

/** The issue's goals, against what this run measured (null where the part did not run). */
export function checkGoals(parts: BenchParts): GoalCheck[] {
  const mapping = measured(parts.mapping) ?? [];
  const pipeline = measured(parts.pipeline) ?? [];
  const memory = measured(parts.memory);
  const latency = measured(parts.objectLatency);
  const alerts = measured(parts.alertLatency);
  const peak =
    memory && memory.length > 0 ? Math.max(...memory.map((r) => r.peakRssBytes)) / 1024 / 1024 : undefined;
  // The product as shipped: a `run` process with its capped heap and in-stream detection on.
  const asShipped =
    memory && memory.length > 0
      ? memory.reduce((a, b) => (b.objectBytes > a.objectBytes ? b : a))
      : undefined;
  return [
    // The goal excludes the SIEM's refresh where it can: a record is in the index once bulk acknowledged it.
    goal(
      'object → indexed p50 < 1 s (refresh excluded)',
      latency?.searchIndexed?.p50Seconds,
      's',
      (v) => v < 1,
    ),
    goal(
      'object → indexed p99 < 3 s (refresh excluded)',
      latency?.searchIndexed?.p99Seconds,
      's',
      (v) => v < 3,
    ),
    goal(
      'object → searchable p99 < 3 s (refresh included)',
      latency?.searchable?.p99Seconds,
      's',
      (v) => v < 3,
    ),
    goal('alert → WAF block p50 < 1 s', alerts?.blocked.p50Seconds, 's', (v) => v < 1),
    ...(['cloudtrail', 'vpcflow'] as const).map((t) =>
      goal(`${t} mapping ≤ 1.5× floor`, mapping.find((m) => m.logType === t)?.ratio, '×', (v) => v <= 1.5),
    ),
    ...(['search', 'hec'] as const).map((s) =>
      goal(
        `pipeline → ${s} ≥ 25 MiB/s decompressed CloudTrail per core`,
        pipeline.find((p) => p.sink === s && !p.detection)?.mibPerCpuSecond,
        'MiB/cpu-s',
        (v) => v >= 25,
      ),
    ),
    goal(
      `run → ${asShipped?.sink ?? 'sink'} at default settings (detection on), largest objects: ≥ 25 MiB/s per core`,
      asShipped?.mibPerCpuSecond,
      'MiB/cpu-s',
      (v) => v >= 25,
    ),
    goal('run peak RSS ≤ 256 MB at default settings, any object size', peak, 'MiB', (v) => v <= 256),
    goal(
      'map peak RSS ≤ 256 MB on the large object',
      mapping.length > 0
        ? Math.max(...mapping.map((m) => m.largeObject.peakRssBytes)) / 1024 / 1024
        : undefined,
      'MiB',
      (v) => v > 0 && v <= 256,
    ),
  ];
}

// ---- the readable form ----

function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n');
}

const n = (v: number, digits = 0) => v.toLocaleString('en-US', { maximumFractionDigits: digits });
const mib = (bytes: number) => `${n(bytes / 1024 / 1024, 1)}`;
const size = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${n(bytes / 1024 / 1024, 1)} MiB` : `${n(bytes / 1024, 0)} KiB`;
const lat = (f: LatencyFigures) => [n(f.p50Seconds, 3), n(f.p99Seconds, 3), n(f.maxSeconds, 3), f.samples];

function section<T>(title: string, part: BenchPart<T>, render: (result: T) => string): string {
  if (part.status === 'skipped') return `${title}\n  skipped: ${part.reason}`;
  if (part.status === 'failed') return `${title}\n  FAILED: ${part.error}`;
  return `${title} (${n(part.seconds, 1)} s)\n${render(part.result)}`;
}

function pipelineTable(runs: PipelineRunResult[]): string {
  return table(
    [
      'sink',
      'in flight',
      'objects',
      'object size',
      'records',
      'records/s',
      'MiB/s',
      'MiB/cpu-s',
      'cpu-s/M rec',
      'peak RSS MiB',
    ],
    runs.map((r) => [
      r.detection ? `${r.sink} + detection` : r.sink,
      r.maxInFlightObjects,
      r.objects,
      size(r.decompressedBytes / r.objects),
      n(r.records),
      n(r.recordsPerSecond),
      n(r.mibPerSecond, 2),
      n(r.mibPerCpuSecond, 2),
      n(r.cpuSecondsPerMillionRecords, 1),
      mib(r.peakRssBytes),
    ]),
  );
}

export function formatReport(report: BenchReport): string {
  const p = report.parts;
  const out: string[] = [
    `aws-siem-connector bench ${report.version} · size ${report.size} · ${report.machine.cpus} CPU ${report.machine.cpuModel} · Node ${report.machine.node} · ${n(report.seconds, 1)} s`,
    section('Decode + map vs floor (gunzip + JSON.parse + JSON.stringify)', p.mapping, (rs) =>
      table(
        [
          'log type',
          'MB',
          'records',
          'floor rec/s',
          'mapped rec/s',
          'mapped MB/s',
          'ratio',
          'serialise only',
          'large object',
          'peak RSS MiB',
        ],
        rs.map((r) => [
          r.logType,
          n(r.decompressedBytes / 1e6, 1),
          n(r.records),
          n(r.floor.recordsPerSecond),
          n(r.mapped.recordsPerSecond),
          n(r.mapped.mbPerSecond, 1),
          `${n(r.ratio, 2)}×`,
          `${n(r.serialiseRatio, 2)}×`,
          size(r.largeObject.decompressedBytes),
          mib(r.largeObject.peakRssBytes),
        ]),
      ),
    ),
    section('HEC sink vs splunk-logging', p.hec, (rs) =>
      table(
        ['client', 'events', 'delivered', 'lost', 'events/s', 'µs cpu/event'],
        rs.map((r) => [
          r.name,
          n(r.events),
          n(r.delivered),
          n(r.events - r.delivered),
          n(r.eventsPerSecond),
          n(r.cpuMicrosPerEvent, 1),
        ]),
      ),
    ),
    section("Search sink vs the client's helpers.bulk", p.search, (rs) =>
      table(
        ['client', 'docs', 'indexed', 'docs/s', 'µs cpu/doc'],
        rs.map((r) => [r.name, n(r.docs), n(r.indexed), n(r.docsPerSecond), n(r.cpuMicrosPerDoc, 1)]),
      ),
    ),
    section('Pipeline: SQS + S3 → sink, in-process consumer (same code as run)', p.pipeline, pipelineTable),
    section('Scaling with objects in flight', p.inFlightScaling, pipelineTable),
    section('Scaling with object size (default settings)', p.objectSizeScaling, pipelineTable),
    section('Memory and CPU: one `run` process at default settings, by object size', p.memory, (rs) =>
      table(
        ['sink', 'object size', 'objects', 'records', 'records/s', 'MiB/s', 'MiB/CPU-s', 'peak RSS MiB'],
        rs.map((r) => [
          r.sink,
          size(r.objectBytes),
          r.objects,
          n(r.records),
          n(r.recordsPerSecond),
          n(r.mibPerSecond, 2),
          n(r.mibPerCpuSecond, 2),
          mib(r.peakRssBytes),
        ]),
      ),
    ),
    section('Scale-out: consumer processes on one queue → OpenSearch', p.scaleOut, (rs) =>
      table(
        [
          'processes',
          'objects',
          'records',
          'records/s',
          'MiB/s',
          'docs',
          'distinct ids',
          'lost',
          'doubled',
          'per process',
        ],
        rs.map((r) => [
          r.processes,
          r.objects,
          n(r.records),
          n(r.recordsPerSecond),
          n(r.mibPerSecond, 2),
          n(r.docs),
          n(r.distinctIds),
          r.lost,
          r.doubled,
          r.perProcess.join('/'),
          r.peakRssBytes ? r.peakRssBytes.map(mib).join('/') : '—',
        ]),
      ),
    ),
    section('Latency: object created → searchable / accepted by HEC', p.objectLatency, (r) =>
      [
        `  ${r.objects} objects of ${r.recordsPerObject} records at ${r.objectsPerSecond}/s; sink flush ${r.sinkFlushMs} ms${r.searchable ? `; index refresh interval ${r.searchable.refreshInterval} (included)` : ''}`,
        table(
          ['path', 'p50 s', 'p99 s', 'max s', 'samples', 'missing'],
          [
            ...(r.searchIndexed
              ? [['object → indexed (bulk acknowledged)', ...lat(r.searchIndexed), r.searchIndexed.missing]]
              : []),
            ...(r.searchable ? [['object → searchable', ...lat(r.searchable), r.searchable.missing]] : []),
            ...(r.hecAccepted
              ? [['object → HEC accepted', ...lat(r.hecAccepted), r.hecAccepted.missing]]
              : []),
          ],
        ),
      ].join('\n'),
    ),
    section('Latency: alert received → WAF block applied', p.alertLatency, (r) =>
      table(
        ['path', 'p50 s', 'p99 s', 'max s', 'samples'],
        [
          ['alert → 202 answered', ...lat(r.answered)],
          ['alert → block in WAF', ...lat(r.blocked)],
        ],
      ),
    ),
    `Goals (reported, never enforced)\n${table(
      ['goal', 'measured', 'met'],
      report.goals.map((g) => [
        g.goal,
        g.measured === null ? '—' : `${n(g.measured, 3)} ${g.unit}`,
        g.met === null ? 'not measured' : g.met ? 'yes' : 'NO',
      ]),
    )}`,
  ];
  return `${out.join('\n\n')}\n`;
}
