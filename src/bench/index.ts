import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createProgress, type ProgressState } from '../observe/index.js';
import type { BenchEndpoints } from './endpoints.js';
import { benchHec } from './hec.js';
import { benchAlertLatency, benchObjectLatency } from './latency.js';
import { benchMapping } from './mapping.js';
import { benchRunMemory } from './memory.js';
import { type BenchServices, type BenchSinkName, benchPipeline, type PipelineRunResult } from './pipeline.js';
import { type BenchPart, type BenchParts, type BenchReport, type BenchSize, checkGoals } from './report.js';
import { benchScaleOut } from './scale-out.js';
import { benchSearch } from './search.js';
import { searchAdmin } from './search-admin.js';

export { type BenchEndpoints, type EndpointOptions, resolveEndpoints } from './endpoints.js';
export { type BenchPart, type BenchReport, type BenchSize, formatReport, type GoalCheck } from './report.js';

/** How much each part does at each size. `small` finishes in about a minute on two cores (CI). */
interface SizePreset {
  mapping: { cloudtrailBytes: number; vpcflowBytes: number; largeObjectBytes: number; repeat: number };
  hecEvents: number;
  searchDocs: number;
  pipeline: { objects: number; objectBytes: number };
  inFlight: { levels: number[]; objects: number; objectBytes: number };
  objectSizes: { objectBytes: number; objects: number }[];
  scaleOut: { processes: number[]; objects: number; objectBytes: number };
  /** Objects per size fed to one `run` process whose peak RSS is read (8 in flight by default). */
  memory: { objectBytes: number; objects: number }[];
  latency: { objects: number; objectsPerSecond: number; alerts: number };
}

const KB = 1_000;
const MB = 1_000_000;

export const SIZE_PRESETS: Record<BenchSize, SizePreset> = {
  small: {
    // Runs of 2 MB take tens of milliseconds, where a busy machine's noise is of the same order: best of 6.
    mapping: { cloudtrailBytes: 2 * MB, vpcflowBytes: 2 * MB, largeObjectBytes: 8 * MB, repeat: 6 },
    hecEvents: 4_000,
    searchDocs: 4_000,
    pipeline: { objects: 8, objectBytes: 256 * KB },
    inFlight: { levels: [1, 4, 16, 64], objects: 16, objectBytes: 16 * KB },
    objectSizes: [
      { objectBytes: 10 * KB, objects: 16 },
      { objectBytes: 100 * KB, objects: 8 },
      { objectBytes: 1 * MB, objects: 2 },
    ],
    scaleOut: { processes: [1, 2, 4], objects: 16, objectBytes: 64 * KB },
    memory: [
      { objectBytes: 10 * KB, objects: 8 },
      { objectBytes: 1 * MB, objects: 8 },
    ],
    latency: { objects: 15, objectsPerSecond: 5, alerts: 15 },
  },
  medium: {
    mapping: { cloudtrailBytes: 20 * MB, vpcflowBytes: 20 * MB, largeObjectBytes: 50 * MB, repeat: 3 },
    hecEvents: 50_000,
    searchDocs: 20_000,
    pipeline: { objects: 16, objectBytes: 2 * MB },
    inFlight: { levels: [1, 4, 16, 64], objects: 64, objectBytes: 32 * KB },
    objectSizes: [
      { objectBytes: 10 * KB, objects: 64 },
      { objectBytes: 1 * MB, objects: 16 },
      { objectBytes: 10 * MB, objects: 4 },
      { objectBytes: 50 * MB, objects: 1 },
    ],
    scaleOut: { processes: [1, 2, 4], objects: 32, objectBytes: 512 * KB },
    memory: [
      { objectBytes: 10 * KB, objects: 16 },
      { objectBytes: 10 * MB, objects: 8 },
      { objectBytes: 50 * MB, objects: 2 },
    ],
    latency: { objects: 50, objectsPerSecond: 5, alerts: 50 },
  },
  full: {
    mapping: { cloudtrailBytes: 50 * MB, vpcflowBytes: 50 * MB, largeObjectBytes: 200 * MB, repeat: 3 },
    hecEvents: 100_000,
    searchDocs: 50_000,
    pipeline: { objects: 32, objectBytes: 4 * MB },
    inFlight: { levels: [1, 4, 16, 64], objects: 128, objectBytes: 64 * KB },
    objectSizes: [
      { objectBytes: 10 * KB, objects: 128 },
      { objectBytes: 1 * MB, objects: 32 },
      { objectBytes: 10 * MB, objects: 8 },
      { objectBytes: 50 * MB, objects: 2 },
      { objectBytes: 200 * MB, objects: 1 },
    ],
    scaleOut: { processes: [1, 2, 4], objects: 64, objectBytes: 2 * MB },
    memory: [
      { objectBytes: 10 * KB, objects: 16 },
      { objectBytes: 10 * MB, objects: 8 },
      { objectBytes: 200 * MB, objects: 2 },
    ],
    latency: { objects: 200, objectsPerSecond: 5, alerts: 100 },
  },
};

export interface BenchOptions {
  size: BenchSize;
  endpoints: BenchEndpoints;
  /** Why an endpoint the user named cannot be used (e.g. --hec without a token). */
  unusable?: Partial<Record<'moto' | 'search' | 'hec', string>>;
  /** Progress on this stream (a bar on a TTY, plain lines otherwise); none when undefined. */
  progress?: NodeJS.WriteStream;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

async function part<T>(needs: string | undefined, run: () => Promise<T>): Promise<BenchPart<T>> {
  if (needs) return { status: 'skipped', reason: needs };
  const started = performance.now();
  try {
    const result = await run();
    return { status: 'measured', seconds: Math.round(performance.now() - started) / 1000, result };
  } catch (err) {
    return { status: 'failed', error: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Every figure of the performance harness, measured one after another in one process so that the
 * comparisons (ours vs the floor, vs splunk-logging, vs helpers.bulk) see the same machine state.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const preset = SIZE_PRESETS[options.size];
  const { moto, search, hec } = options.endpoints;
  const startedAt = new Date();
  const started = performance.now();
  const run = `asc-bench-${Date.now().toString(36)}`;
  let seed = Date.now() % 1_000_000_000;
  const nextSeed = () => (seed += 100_000);

  const missing = (name: 'moto' | 'search' | 'hec', flag: string) =>
    options.unusable?.[name] ??
    `no ${name === 'moto' ? 'S3/SQS (moto)' : name === 'search' ? 'OpenSearch' : 'HEC'} endpoint (give ${flag}, or --services to use the test services)`;
  const needMoto = moto ? undefined : missing('moto', '--moto URL');
  const needSearch = search ? undefined : missing('search', '--search URL');
  const needHec = hec ? undefined : missing('hec', '--hec URL and --hec-token T');
  const needSink =
    search || hec ? undefined : `${missing('search', '--search URL')}; ${missing('hec', '--hec URL')}`;
  const services: BenchServices | undefined = moto
    ? { moto, ...(search ? { search } : {}), ...(hec ? { hec } : {}) }
    : undefined;
  // Scaling runs go to HEC when there is one: its receiver is cheaper than indexing, so the pipeline shows.
  const scalingSink: BenchSinkName = hec ? 'hec' : 'search';

  const steps = 10;
  let done = 0;
  const progress = options.progress ? createProgress(options.progress) : undefined;
  const state = (extra: string): ProgressState => ({
    done,
    total: steps,
    unit: 'parts',
    bytes: 0,
    totalBytes: 0,
    extra,
    startedAt: startedAt.getTime(),
  });
  const step = async <T>(
    name: string,
    needs: string | undefined,
    fn: () => Promise<T>,
  ): Promise<BenchPart<T>> => {
    progress?.update(state(name), true);
    const result = await part(needs, fn);
    done++;
    return result;
  };
  const sinksFor = (all: BenchSinkName[]) => all.filter((s) => (s === 'hec' ? hec : search));
  const prefix = (label: string) => `${run}-${label}`;

  const parts = {} as BenchParts;
  try {
    parts.mapping = await step('decode + map vs floor', undefined, () => benchMapping(preset.mapping));
    parts.hec = await step('HEC sink vs splunk-logging', needHec, () =>
      benchHec({ url: hec!.url, token: hec!.token, events: preset.hecEvents }),
    );
    parts.search = await step('search sink vs helpers.bulk', needSearch, () =>
      benchSearch({ node: search!, docs: preset.searchDocs }),
    );
    parts.pipeline = await step('pipeline per sink', needMoto ?? needSink, async () => {
      const runs: PipelineRunResult[] = [];
      for (const sink of sinksFor(['search', 'hec'])) {
        const pass = (label: string, detection = false) =>
          benchPipeline({
            services: services!,
            sink,
            ...preset.pipeline,
            indexPrefix: prefix(`${label}-${sink}`),
            seed: nextSeed(),
            detection,
          });
        // An untimed pass first: a consumer runs for days, so the figure is of JIT-compiled code, not of
        // the compiler threads warming it up (which process CPU time would count).
        await pass('warm');
        runs.push(await pass('p'));
        // With in-stream detection too, as `run` has it by default.
        runs.push(await pass('d', true));
      }
      return runs;
    });
    parts.inFlightScaling = await step('scaling with objects in flight', needMoto ?? needSink, async () => {
      const runs: PipelineRunResult[] = [];
      for (const level of preset.inFlight.levels) {
        runs.push(
          await benchPipeline({
            services: services!,
            sink: scalingSink,
            // At least as many objects as may be in flight, or the level would not be reached.
            objects: Math.max(preset.inFlight.objects, level),
            objectBytes: preset.inFlight.objectBytes,
            maxInFlightObjects: level,
            indexPrefix: prefix(`if${level}`),
            seed: nextSeed(),
          }),
        );
      }
      return runs;
    });
    parts.objectSizeScaling = await step('scaling with object size', needMoto ?? needSink, async () => {
      const runs: PipelineRunResult[] = [];
      for (const s of preset.objectSizes) {
        runs.push(
          await benchPipeline({
            services: services!,
            sink: scalingSink,
            ...s,
            indexPrefix: prefix(`os${s.objectBytes}`),
            seed: nextSeed(),
          }),
        );
      }
      return runs;
    });
    parts.memory = await step('memory of run by object size', needMoto ?? needSink, async () => {
      const runs = [];
      for (const s of preset.memory) {
        runs.push(
          await benchRunMemory({
            services: services!,
            sink: scalingSink,
            ...s,
            indexPrefix: prefix(`mem${s.objectBytes}`),
            seed: nextSeed(),
          }),
        );
      }
      return runs;
    });
    parts.scaleOut = await step('scale-out over processes', needMoto ?? needSearch, async () => {
      const runs = [];
      for (const processes of preset.scaleOut.processes) {
        runs.push(
          await benchScaleOut({
            services: services!,
            processes,
            objects: preset.scaleOut.objects,
            objectBytes: preset.scaleOut.objectBytes,
            indexPrefix: prefix(`so${processes}`),
            seed: nextSeed(),
          }),
        );
      }
      return runs;
    });
    parts.objectLatency = await step('object → searchable latency', needMoto ?? needSink, () =>
      benchObjectLatency({
        services: services!,
        objects: preset.latency.objects,
        objectsPerSecond: preset.latency.objectsPerSecond,
        indexPrefix: prefix('lat'),
        seed: nextSeed(),
      }),
    );
    parts.alertLatency = await step('alert → block latency', needMoto, () =>
      benchAlertLatency({ moto: moto!, alerts: preset.latency.alerts }),
    );
  } finally {
    if (search) {
      const admin = searchAdmin(search);
      await admin.remove(run).catch(() => undefined);
      await admin.close();
    }
  }
  const seconds = (performance.now() - started) / 1000;
  progress?.finish(state('done'));
  const cpu = cpus();
  return {
    tool: 'aws-siem-connector bench',
    version: packageVersion(),
    size: options.size,
    startedAt: startedAt.toISOString(),
    seconds: Math.round(seconds * 10) / 10,
    machine: {
      node: process.versions.node,
      platform: `${process.platform}-${process.arch}`,
      cpus: cpu.length,
      cpuModel: cpu[0]?.model.trim() ?? 'unknown',
      totalMemoryBytes: totalmem(),
    },
    endpoints: { moto: moto !== undefined, search: search !== undefined, hec: hec !== undefined },
    parts,
    goals: checkGoals(parts),
  };
}
