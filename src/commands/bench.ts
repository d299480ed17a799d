import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { type BenchSize, formatReport, resolveEndpoints, runBench } from '../bench/index.js';
import { ConnectorError } from '../errors.js';

export interface BenchCommandOptions {
  json?: boolean;
  size?: string;
  moto?: string;
  search?: string;
  hec?: string;
  hecToken?: string;
  services?: boolean;
  out?: string;
}

const SIZES: readonly BenchSize[] = ['small', 'medium', 'full'];

/**
 * `bench`: every figure side by side in one run. Parts whose service is not given are skipped and say
 * why; a part that breaks is reported as failed (exit 1). Goals are printed, never enforced.
 */
export async function benchCommand(_command: Command, options: BenchCommandOptions): Promise<void> {
  const size = (options.size ?? 'small') as BenchSize;
  if (!SIZES.includes(size)) {
    throw new ConnectorError('USAGE', `--size must be one of ${SIZES.join(', ')}, got ${options.size}`);
  }
  const endpoints = resolveEndpoints({
    ...(options.moto ? { moto: options.moto } : {}),
    ...(options.search ? { search: options.search } : {}),
    ...(options.hec ? { hec: options.hec } : {}),
    ...(options.hecToken ? { hecToken: options.hecToken } : {}),
    services: options.services === true,
  });
  const unusable =
    options.hec && !endpoints.hec
      ? { hec: '--hec was given without a token (--hec-token or ASC_HEC_TOKEN)' }
      : undefined;
  if (endpoints.moto) {
    // Any credentials satisfy a local emulator; real ones from the environment are left alone.
    process.env.AWS_ACCESS_KEY_ID ??= 'bench';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  }
  const report = await runBench({
    size,
    endpoints,
    ...(unusable ? { unusable } : {}),
    progress: process.stderr,
  });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (options.out) await writeFile(options.out, json);
  process.stdout.write(options.json ? json : formatReport(report));
  const failed = Object.entries(report.parts).filter(([, p]) => p.status === 'failed');
  if (failed.length > 0) {
    process.stderr.write(
      `bench: ${failed.length} part(s) failed: ${failed.map(([name]) => name).join(', ')}\n`,
    );
    process.exitCode = 1;
  }
}
