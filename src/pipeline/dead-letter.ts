import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { parseS3Location } from '../s3-location.js';
import type { RecordOrigin } from '../types.js';
import { appenderIn } from './append-in-dir.js';
import { DEFAULT_DEAD_LETTER_MAX_PENDING_BYTES } from './config.js';
import { PendingBytes } from './pending-bytes.js';

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
  /**
   * Takes the entry at once, whatever is pending (a sink settling a batch cannot wait), and resolves
   * once it is durable; the record counts as settled only then.
   */
  write(entry: Omit<DeadLetterEntry, 'time'>): Promise<void>;
  /**
   * Undefined while the entries not yet durable are within the bound; otherwise resolves once they are.
   * Producers that can pause (an object's decoding) wait here. A dead letter without it never makes
   * anyone wait.
   */
  whenRoom?(): Promise<void> | undefined;
  close(): Promise<void>;
}

/** A dead letter that holds at most about `maxPendingBytes` of entries not yet durable. */
export interface BoundedDeadLetter extends DeadLetter {
  whenRoom(): Promise<void> | undefined;
  /**
   * What the entries taken and not yet durable (or failed) cost: their NDJSON bytes plus a fixed estimate
   * each of the promise and callbacks waiting for them. What `maxPendingBytes` bounds.
   */
  readonly pendingBytes: number;
}

/**
 * Where dead-letter lines are made durable. A write resolves once its line is, and rejects if it cannot
 * be; either way the store first releases the line's `cost` from the pending bytes it was given.
 */
interface LineStore {
  write(line: string, cost: number): Promise<void>;
  /** Producers are waiting for room: send what is held now rather than when its batch is full or old. */
  sendNow(): void;
  close(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

function settleAll(waiters: Waiter[], failure: { err: unknown } | undefined): void {
  if (failure) for (const w of waiters) w.reject(failure.err);
  else for (const w of waiters) w.resolve();
}

/** Appends NDJSON to one file per day under `dir`. */
export function directoryDeadLetter(
  dir: string,
  options: { maxPendingBytes?: number } = {},
): BoundedDeadLetter {
  const pending = new PendingBytes(options.maxPendingBytes ?? DEFAULT_DEAD_LETTER_MAX_PENDING_BYTES);
  return bounded(directoryLines(dir, pending), pending);
}

/**
 * Buffers entries and writes them as one NDJSON object per batch under `s3://bucket/prefix/yyyy/mm/dd/`,
 * with at most `maxUploads` uploads in flight. A write resolves when the object holding it is stored.
 */
export function s3DeadLetter(
  s3: S3Client,
  target: string,
  options: { maxEntries?: number; maxDelayMs?: number; maxUploads?: number; maxPendingBytes?: number } = {},
): BoundedDeadLetter {
  const pending = new PendingBytes(options.maxPendingBytes ?? DEFAULT_DEAD_LETTER_MAX_PENDING_BYTES);
  return bounded(s3Lines(s3, target, pending, options), pending);
}

/**
 * What an entry costs in memory besides its text, counted against the bound: the promise and callbacks
 * that wait for it here and in the object's tracker (about 1 KiB on Node 20). Without it a flood of short
 * flow lines would hold several times the configured bytes.
 */
const ENTRY_OVERHEAD_BYTES = 1024;

/**
 * Counts what every entry costs from the moment it is taken until its store settles it. Every rejected
 * record of an object becomes an entry (up to a 64 KiB line or a whole document each), so without this
 * an object rejected whole would sit in memory entry by entry while the disk or S3 catches up.
 */
function bounded(store: LineStore, pending: PendingBytes): BoundedDeadLetter {
  return {
    write(entry) {
      const line = `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`;
      const cost = Buffer.byteLength(line) + ENTRY_OVERHEAD_BYTES;
      pending.add(cost);
      return store.write(line, cost);
    },
    whenRoom() {
      const room = pending.whenRoom();
      // Waiting for a batch to fill up or age would only stall the producers that wait for room.
      if (room) store.sendNow();
      return room;
    },
    get pendingBytes() {
      return pending.bytes;
    },
    close: () => store.close(),
  };
}

/**
 * Appends lines to the day's file; lines taken while an append is in progress go out together in the next
 * one (see appenderIn). A failed append fails its lines: they are retried with their objects, whose
 * messages stay in the queue.
 */
function directoryLines(dir: string, pending: PendingBytes): LineStore {
  const files = appenderIn(dir);
  return {
    write(line, cost) {
      const file = join(dir, `dead-letter-${new Date().toISOString().slice(0, 10)}.ndjson`);
      // Released before the caller hears of it: a record counted settled is no longer counted pending.
      return files.append(file, line).finally(() => pending.release(cost));
    },
    sendNow() {
      // Lines are appended as soon as the previous append is done; nothing waits for a batch to fill.
    },
    close: () => files.idle(),
  };
}

function s3Lines(
  s3: S3Client,
  target: string,
  pending: PendingBytes,
  options: { maxEntries?: number; maxDelayMs?: number; maxUploads?: number },
): LineStore {
  const { bucket, prefix } = parseS3Location(target, 'dead letter target');
  const maxEntries = options.maxEntries ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 1000;
  // A few uploads in flight keep a slow S3 busy; more would only hold more batches in memory at once.
  const maxUploads = Math.max(1, options.maxUploads ?? 2);
  let batch: { lines: string[]; cost: number; waiters: Waiter[] } = { lines: [], cost: 0, waiters: [] };
  /** Batches closed and waiting for an upload slot, oldest first. */
  const ready: Array<typeof batch> = [];
  const uploads = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;

  const upload = async (closed: typeof batch): Promise<void> => {
    const now = new Date().toISOString();
    const key = `${prefix}${now.slice(0, 4)}/${now.slice(5, 7)}/${now.slice(8, 10)}/${now.replace(/[:.]/g, '')}-${randomUUID()}.ndjson`;
    const body = closed.lines.join('');
    closed.lines = [];
    let failure: { err: unknown } | undefined;
    try {
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }),
      );
    } catch (err) {
      // Retried with their objects, whose messages stay in the queue.
      failure = { err };
    }
    pending.release(closed.cost);
    settleAll(closed.waiters, failure);
  };

  const startUploads = (): void => {
    while (uploads.size < maxUploads && ready.length > 0) {
      const put: Promise<void> = upload(ready.shift()!).finally(() => {
        uploads.delete(put);
        startUploads();
      });
      uploads.add(put);
    }
  };

  const closeBatch = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (batch.lines.length === 0) return;
    ready.push(batch);
    batch = { lines: [], cost: 0, waiters: [] };
    startUploads();
  };

  return {
    write(line, cost) {
      return new Promise<void>((resolve, reject) => {
        batch.lines.push(line);
        batch.cost += cost;
        batch.waiters.push({ resolve, reject });
        if (batch.lines.length >= maxEntries) closeBatch();
        else timer ??= setTimeout(closeBatch, maxDelayMs);
      });
    },
    sendNow: closeBatch,
    async close() {
      closeBatch();
      // An upload that ends starts the next ready one before it leaves the set.
      while (uploads.size > 0) await Promise.allSettled([...uploads]);
    },
  };
}
