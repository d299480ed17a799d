import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Location } from '../s3-location.js';
import type { RecordOrigin } from '../types.js';
import { appenderIn } from './append-in-dir.js';

/** One record that no sink will ever take, with everything needed to find, fix and replay it. */
export interface DeadLetterEntry {
  time: string;
  code: string;
  reason: string;
  origin: RecordOrigin;
  /** The sink that refused the record; absent when decoding or mapping failed. */
  sink?: string;
  field?: string;
  /** The record as read, or the document as the sink was sent it, so nothing is lost. */
  raw?: string;
}

export interface DeadLetter {
  /** Resolves once the entry is durable; the record counts as settled only then. */
  write(entry: Omit<DeadLetterEntry, 'time'>): Promise<void>;
  close(): Promise<void>;
}

/** Appends NDJSON to one file per day under `dir`. */
export function directoryDeadLetter(dir: string): DeadLetter {
  const files = appenderIn(dir);
  // Appends are chained so that concurrent writers never interleave partial lines.
  let tail: Promise<void> = Promise.resolve();
  return {
    write(entry) {
      const line = `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`;
      const file = join(dir, `dead-letter-${new Date().toISOString().slice(0, 10)}.ndjson`);
      const next = tail.then(() => files.append(file, line));
      tail = next.catch(() => undefined);
      return next;
    },
    async close() {
      await tail;
    },
  };
}

/**
 * Buffers entries and writes them as one NDJSON object per flush under `s3://bucket/prefix/yyyy/mm/dd/`.
 * A write resolves when the object holding it is stored.
 */
export function s3DeadLetter(
  s3: S3Client,
  target: string,
  options: { maxEntries?: number; maxDelayMs?: number } = {},
): DeadLetter {
  const { bucket, prefix } = parseS3Location(target, 'dead letter target');
  const maxEntries = options.maxEntries ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 1000;
  let lines: string[] = [];
  let waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<void>>();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (lines.length === 0) return Promise.resolve();
    const body = lines.join('');
    const settle = waiters;
    lines = [];
    waiters = [];
    const now = new Date().toISOString();
    const key = `${prefix}${now.slice(0, 4)}/${now.slice(5, 7)}/${now.slice(8, 10)}/${now.replace(/[:.]/g, '')}-${randomUUID()}.ndjson`;
    const put = s3
      .send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }),
      )
      .then(
        () => {
          for (const w of settle) w.resolve();
        },
        (err: unknown) => {
          for (const w of settle) w.reject(err);
        },
      );
    inFlight.add(put);
    void put.finally(() => inFlight.delete(put));
    return put;
  };

  return {
    write(entry) {
      return new Promise<void>((resolve, reject) => {
        lines.push(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
        waiters.push({ resolve, reject });
        if (lines.length >= maxEntries) void flush();
        else timer ??= setTimeout(() => void flush(), maxDelayMs);
      });
    },
    async close() {
      await flush();
      await Promise.allSettled([...inFlight]);
    },
  };
}
