import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { ConnectorError, errorMessage } from '../../errors.js';
import { type HecEvent, hecEventJson } from '../../map/cim/index.js';
import type { Logger } from '../../observe/index.js';
import type { LogType, Sink, SinkRecord } from '../../types.js';
import type { FileSinkConfig } from './config.js';

export { type FileSinkConfig, fileSinkConfigSchema } from './config.js';

/** A file the sink writes to failed; `check()` throws it so /readyz shows the sink unhealthy. */
export class FileSinkError extends ConnectorError {
  constructor(file: string, cause: Error) {
    super('FILE_SINK_WRITE_FAILED', `writing ${file} failed: ${cause.message}`, {
      cause,
      details: { file, errno: (cause as NodeJS.ErrnoException).code },
    });
  }
}

/**
 * Writes documents as NDJSON, one file per log type (`<dir>/<logType>.<schema>.ndjson`). A record is
 * acknowledged once its line has been handed to the OS. Used by the embedded demo and for local
 * pipelines into other shippers.
 *
 * An I/O error (a directory in the file's place, no permission, a full disk) fails the records written to
 * that stream, so their objects are retried, and never reaches the process as an unhandled 'error'. The
 * failed stream is dropped: the next record opens the file again, so a disk that frees up recovers
 * without a restart.
 */
export function createFileSink(config: FileSinkConfig, deps: { log?: Logger } = {}): Sink {
  mkdirSync(config.dir, { recursive: true });
  const streams = new Map<LogType, WriteStream>();
  const pending = new Set<Promise<void>>();
  /** Per file, its most recent write error, until a later write to it succeeds. */
  const failures = new Map<LogType, FileSinkError>();
  const reported = new Set<string>();

  const streamFor = (logType: LogType): WriteStream => {
    let stream = streams.get(logType);
    if (!stream) {
      const file = join(config.dir, `${logType}.${config.schema}.ndjson`);
      const opened = createWriteStream(file, { flags: 'a' });
      opened.on('error', (err) => {
        // Records written to it fail through their write callbacks, which Node calls with this error.
        if (streams.get(logType) === opened) streams.delete(logType);
        failures.set(logType, new FileSinkError(file, err));
        const key = `${file}:${(err as NodeJS.ErrnoException).code ?? err.message}`;
        if (reported.has(key)) return;
        reported.add(key);
        deps.log?.error(
          { sink: 'file', file, code: (err as NodeJS.ErrnoException).code, err: errorMessage(err) },
          'file sink cannot write; its records fail and their objects will be retried',
        );
      });
      streams.set(logType, opened);
      stream = opened;
    }
    return stream;
  };

  // A HEC envelope is written as HEC would receive it (and `map --schema cim` prints it): its record
  // spliced in, without the keys that only steer the HEC sink.
  const lineOf = (doc: unknown): string =>
    config.schema === 'cim' ? hecEventJson(doc as HecEvent) : JSON.stringify(doc);

  return {
    name: 'file',
    schema: config.schema,
    logTypes: config.logTypes,
    async write(record: SinkRecord) {
      const stream = streamFor(record.logType);
      const done = new Promise<void>((resolve) => {
        stream.write(`${lineOf(record.doc)}\n`, (err) => {
          if (err) record.delivery.fail(err);
          else {
            failures.delete(record.logType);
            record.delivery.ack();
          }
          resolve();
        });
      });
      pending.add(done);
      void done.finally(() => pending.delete(done));
      // Back-pressure: wait for the OS to drain before taking more. A stream that fails meanwhile never
      // drains, but it closes.
      if (stream.writableNeedDrain && !stream.destroyed) {
        await new Promise<void>((r) => {
          stream.once('drain', r);
          stream.once('close', r);
        });
      }
    },
    async flush() {
      await Promise.all([...pending]);
    },
    async close() {
      await Promise.all([...pending]);
      await Promise.all(
        [...streams.values()].map(
          (s) =>
            new Promise<void>((r) => {
              // 'close' follows both a clean end and an error, so a failing final write cannot hang this.
              s.once('close', () => r());
              s.end();
            }),
        ),
      );
      streams.clear();
    },
    async check() {
      const [failure] = failures.values();
      if (failure) throw failure;
    },
  };
}
