import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { LogType, Sink, SinkRecord } from '../../types.js';
import type { FileSinkConfig } from './config.js';

export { type FileSinkConfig, fileSinkConfigSchema } from './config.js';

/**
 * Writes documents as NDJSON, one file per log type (`<dir>/<logType>.<schema>.ndjson`). A record is
 * acknowledged once its line has been handed to the OS. Used by the embedded demo and for local
 * pipelines into other shippers.
 */
export function createFileSink(config: FileSinkConfig): Sink {
  mkdirSync(config.dir, { recursive: true });
  const streams = new Map<LogType, WriteStream>();
  const pending = new Set<Promise<void>>();

  const streamFor = (logType: LogType): WriteStream => {
    let stream = streams.get(logType);
    if (!stream) {
      stream = createWriteStream(join(config.dir, `${logType}.${config.schema}.ndjson`), { flags: 'a' });
      streams.set(logType, stream);
    }
    return stream;
  };

  return {
    name: 'file',
    schema: config.schema,
    async write(record: SinkRecord) {
      const stream = streamFor(record.logType);
      const done = new Promise<void>((resolve) => {
        stream.write(`${JSON.stringify(record.doc)}\n`, (err) => {
          if (err) record.delivery.fail(err);
          else record.delivery.ack();
          resolve();
        });
      });
      pending.add(done);
      void done.finally(() => pending.delete(done));
      // Back-pressure: wait for the OS to drain before taking more.
      if (stream.writableNeedDrain) await new Promise<void>((r) => stream.once('drain', r));
    },
    async flush() {
      await Promise.all([...pending]);
    },
    async close() {
      await Promise.all([...pending]);
      await Promise.all([...streams.values()].map((s) => new Promise<void>((r) => s.end(r))));
      streams.clear();
    },
  };
}
