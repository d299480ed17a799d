import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { decodeObject, type FlowLayouts, flowLayoutsWith } from '../decode/index.js';
import { errorMessage } from '../errors.js';
import { type EncodableLine, encodeLines } from '../lines.js';
import type { CimOptions } from '../map/cim/index.js';
import { type EcsMapOptions, toEcs } from '../map/ecs/index.js';
import type { LogType, RawRecord, Schema } from '../types.js';

export interface MapCommandOptions {
  type?: string;
  schema?: string;
  /**
   * A config file whose `mapping` section (GeoIP databases, preserveOriginal, …) and `pipeline.flowFormats`
   * apply, as in `run`.
   */
  config?: string;
}

export interface MapRunOptions {
  files: readonly string[];
  type: LogType | 'auto';
  schema: Schema;
  /** How ECS documents are made (GeoIP, event.original); none by default. */
  ecs?: EcsMapOptions;
  /** How HEC events are made (flow line order); the defaults by default. */
  cim?: CimOptions;
  /** Layouts for header-less flow lines (`pipeline.flowFormats` with --config); the known ones by default. */
  flowLayouts?: FlowLayouts;
  stdin: NodeJS.ReadableStream;
  stdout: Writable;
  stderr: Writable;
}

export interface MapSummary {
  mapped: number;
  rejected: number;
  skipped: number;
}

/** Exit statuses of `map`: 0 every record mapped, 1 something was rejected or unreadable, 2 usage. */
export const MAP_EXIT = { ok: 0, rejected: 1, usage: 2 } as const;

const FLUSH_AT = 64 * 1024;

/** `aws-siem-connector map`: decode + map local objects to NDJSON on stdout, errors on stderr. */
export async function mapCommand(files: string[], options: MapCommandOptions): Promise<void> {
  const type = options.type ?? 'auto';
  const schema = options.schema ?? 'ecs';
  if (type !== 'auto' && type !== 'cloudtrail' && type !== 'vpcflow') {
    process.stderr.write(
      `aws-siem-connector map: --type must be cloudtrail, vpcflow or auto, not "${type}"\n`,
    );
    process.exitCode = MAP_EXIT.usage;
    return;
  }
  if (schema !== 'ecs' && schema !== 'cim') {
    process.stderr.write(`aws-siem-connector map: --schema must be ecs or cim, not "${schema}"\n`);
    process.exitCode = MAP_EXIT.usage;
    return;
  }
  let ecs: EcsMapOptions | undefined;
  let cim: CimOptions | undefined;
  let flowLayouts: FlowLayouts | undefined;
  if (options.config !== undefined) {
    // Only with --config: a local mapping must not depend on whatever ASC_* the shell happens to hold.
    const { loadConfig } = await import('../config/index.js');
    const { cimMapOptions, ecsMapOptions } = await import('../pipeline/build.js');
    try {
      const config = loadConfig({ file: options.config });
      ecs = await ecsMapOptions(config);
      cim = cimMapOptions(config);
      flowLayouts = flowLayoutsWith(config.pipeline.flowFormats);
    } catch (err) {
      process.stderr.write(`aws-siem-connector map: ${errorMessage(err)}\n`);
      process.exitCode = MAP_EXIT.usage;
      return;
    }
  }
  const summary = await runMap({
    files,
    type,
    schema,
    ...(ecs ? { ecs } : {}),
    ...(cim ? { cim } : {}),
    ...(flowLayouts ? { flowLayouts } : {}),
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
  });
  if (summary.rejected > 0) process.exitCode = MAP_EXIT.rejected;
}

/** One record → its document as one line of JSON. */
type Mapper = (record: RawRecord) => string;

async function mapperFor(schema: Schema, ecs?: EcsMapOptions, cim?: CimOptions): Promise<Mapper> {
  if (schema === 'ecs') return (record) => JSON.stringify(toEcs(record, ecs));
  const { hecEventJson, toCim } = await import('../map/cim/index.js');
  return (record) => hecEventJson(toCim(record, cim));
}

/**
 * The command's work, with its streams injected: one document per record, NDJSON, in input order.
 * Output is written in blocks and waits for `drain`, so a slow reader (a pipe into `head`, a network
 * shipper) holds the decoder back instead of filling memory.
 */
export async function runMap(options: MapRunOptions): Promise<MapSummary> {
  const map = await mapperFor(options.schema, options.ecs, options.cim);
  const summary: MapSummary = { mapped: 0, rejected: 0, skipped: 0 };
  const out = new BlockWriter(options.stdout);
  const inputs = options.files.length === 0 ? ['-'] : options.files;
  for (const file of inputs) {
    const name = file === '-' ? '<stdin>' : file;
    const body = file === '-' ? options.stdin : createReadStream(file);
    try {
      for await (const result of decodeObject(body, {
        origin: { key: name },
        logType: options.type,
        ...(options.flowLayouts ? { flowLayouts: options.flowLayouts } : {}),
      })) {
        if (result.kind === 'skipped') {
          summary.skipped++;
          if (result.reason === 'unknown-type') {
            summary.rejected++;
            options.stderr.write(
              `${name}: cannot tell whether this is CloudTrail or VPC flow logs; pass --type cloudtrail|vpcflow\n`,
            );
          } else {
            options.stderr.write(
              `${name}: skipped (${result.reason === 'digest' ? 'CloudTrail digest file' : 'empty'})\n`,
            );
          }
          continue;
        }
        if (result.kind === 'rejected') {
          summary.rejected++;
          // The reason already names the record or line ("record 3: ...", "line 7: ...").
          const { code, reason } = result.rejected;
          options.stderr.write(`${name}: ${code}: ${reason}\n`);
          continue;
        }
        let line: string;
        try {
          line = map(result.record);
        } catch (err) {
          summary.rejected++;
          const position = result.record.logType === 'vpcflow' ? 'line' : 'record';
          options.stderr.write(
            `${name}: ${position} ${result.record.origin.record}: MAP_FAILED: ${errorMessage(err)}\n`,
          );
          continue;
        }
        summary.mapped++;
        await out.write(`${line}\n`);
      }
    } catch (err) {
      // The reader went away (`map ... | head`): stop quietly, as Unix tools do.
      if (isBrokenPipe(err)) return summary;
      summary.rejected++;
      options.stderr.write(`${name}: cannot read: ${errorMessage(err)}\n`);
    }
  }
  try {
    await out.flush();
  } catch (err) {
    if (!isBrokenPipe(err)) throw err;
  }
  return summary;
}

function isBrokenPipe(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

class BlockWriter {
  private buffered: EncodableLine[] = [];
  private size = 0;

  constructor(private readonly stream: Writable) {}

  async write(text: string): Promise<void> {
    const bytes = Buffer.byteLength(text, 'utf8');
    this.buffered.push({ line: text, bytes });
    this.size += bytes;
    if (this.size >= FLUSH_AT) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const block = encodeLines(this.buffered);
    this.buffered = [];
    this.size = 0;
    if (!this.stream.write(block)) {
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          this.stream.off('error', onError);
          resolve();
        };
        const onError = (err: Error): void => {
          this.stream.off('drain', onDrain);
          reject(err);
        };
        this.stream.once('drain', onDrain);
        this.stream.once('error', onError);
      });
    }
  }
}
