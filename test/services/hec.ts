import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { cacheDir, repoRoot, servicesCacheDir, servicesSourceDir } from './paths.js';
import { fingerprint, httpProbe, isUpToDate, runStep, spawnDetached, writeStamp } from './process.js';
import type { ServiceDefinition } from './service.js';

const manifestFile = path.join(servicesSourceDir, 'hec', 'builder-config.yaml');
// Checksums of every module the build uses, recorded from a verified build. Seeding the builder's go.sum
// with them pins the whole dependency graph, including the contrib modules the checksum database lacks.
const goSumSeed = path.join(servicesSourceDir, 'hec', 'go.sum');
const binDir = path.join(cacheDir, 'bin');
const builderBinary = path.join(binDir, 'builder');
const collectorBinary = path.join(binDir, 'otelcol-hec');
// Must match dist.output_path in the manifest (relative to the repository root).
const buildOutputDir = path.join(cacheDir, 'build', 'otelcol-hec');
const stampFile = path.join(cacheDir, 'build', 'otelcol-hec.sha256');
const installLog = path.join(servicesCacheDir, 'hec-install.log');
const logFile = path.join(servicesCacheDir, 'hec.log');
const configFile = path.join(servicesCacheDir, 'hec-config.yaml');
export const hecOutputFile = path.join(servicesCacheDir, 'hec-output.jsonl');
const go = process.env['GO'] ?? 'go';

/** The collector release the manifest pins; the builder must be the same release. */
async function collectorRelease(): Promise<string> {
  const manifest = await readFile(manifestFile, 'utf8');
  const match = /splunkhecreceiver (v\d+\.\d+\.\d+)/.exec(manifest);
  if (!match?.[1]) throw new Error(`${manifestFile} does not pin splunkhecreceiver to a version`);
  return match[1];
}

function collectorConfig(port: number, token: string): unknown {
  return {
    extensions: {
      // The receiver itself accepts any token; this authenticator makes a wrong one a 401 as on Splunk.
      'bearertokenauth/hec': { scheme: 'Splunk', token },
      ack: {},
    },
    receivers: {
      splunk_hec: {
        endpoint: `127.0.0.1:${port}`,
        auth: { authenticator: 'bearertokenauth/hec' },
        ack: { extension: 'ack', path: '/services/collector/ack' },
        // Splunk's HEC keeps connections alive; the receiver closes each one unless told otherwise, which
        // would make every client request pay a TCP connect that it never pays against Splunk.
        keep_alives_enabled: true,
      },
    },
    exporters: {
      file: {
        path: hecOutputFile,
        format: 'json',
        // The file is emptied when the collector is (re)started, so it holds one session's events; append
        // keeps it from being truncated again on a config reload.
        append: true,
        flush_interval: '100ms',
      },
    },
    service: {
      extensions: ['bearertokenauth/hec', 'ack'],
      // The collector's own metrics endpoint would bind a fixed port (8888) and collide between checkouts.
      telemetry: { metrics: { level: 'none' }, logs: { level: 'info' } },
      pipelines: { logs: { receivers: ['splunk_hec'], exporters: ['file'] } },
    },
  };
}

export const hec: ServiceDefinition = {
  name: 'hec',
  title: 'Splunk HEC receiver (OpenTelemetry Collector)',
  logFile,
  startTimeoutMs: 60_000,

  async install() {
    const release = await collectorRelease();
    const print = await fingerprint([manifestFile, goSumSeed], [release]);
    if (await isUpToDate(stampFile, print, [collectorBinary])) return { built: false, ms: 0 };
    await mkdir(buildOutputDir, { recursive: true });
    const env = {
      ...process.env,
      GOBIN: binDir,
      CGO_ENABLED: '0',
      // The build directory sits inside this git checkout; stamping VCS info would make Go run git there.
      GOFLAGS: [process.env['GOFLAGS'], '-buildvcs=false'].filter(Boolean).join(' '),
      // Build with the Go on PATH (>= 1.25) instead of fetching another toolchain.
      GOTOOLCHAIN: 'local',
      // The checksum database has no entry for some contrib module versions; the seeded go.sum covers them.
      GONOSUMDB: 'github.com/open-telemetry/opentelemetry-collector-contrib',
    };
    let ms = await runStep('hec', go, ['install', `go.opentelemetry.io/collector/cmd/builder@${release}`], {
      logFile: installLog,
      cwd: repoRoot,
      env,
    });
    await copyFile(goSumSeed, path.join(buildOutputDir, 'go.sum'));
    ms += await runStep('hec', builderBinary, [`--config=${manifestFile}`, '--ldflags=-s -w'], {
      logFile: installLog,
      cwd: repoRoot,
      env,
    });
    await copyFile(path.join(buildOutputDir, 'otelcol-hec'), collectorBinary);
    await writeStamp(stampFile, print);
    return { built: true, ms, logFile: installLog };
  },

  async start({ port, state }) {
    await mkdir(servicesCacheDir, { recursive: true });
    await writeFile(configFile, stringify(collectorConfig(port, state.hecToken)), { mode: 0o600 });
    await rm(hecOutputFile, { force: true });
    const { pid } = await spawnDetached(collectorBinary, [`--config=${configFile}`], {
      logFile,
      cwd: repoRoot,
    });
    return { pid, url: `http://127.0.0.1:${port}`, extra: { outputFile: hecOutputFile } };
  },

  async healthy(record, state) {
    return await httpProbe(`${record.url}/services/collector/health`, {
      headers: { Authorization: `Splunk ${state.hecToken}` },
    });
  },
};
