import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ActionName } from './config.js';
import type { Requester } from './types.js';

/** One applied action, with the prior state its undo needs. */
export interface ActionRecord {
  key: string;
  action: ActionName;
  target: string;
  alertId: string;
  requester: Requester;
  appliedAt: string;
  /** WAF blocks with a TTL: the sweeper undoes the record after this time. */
  expiresAt?: string | undefined;
  prior: unknown;
  /** Set once undone (by a person or the sweeper). */
  undoneAt?: string | undefined;
}

/**
 * Applied actions, keyed by idempotency key (alert id + action + target). Async because the durable copy
 * may live in another service (S3): every read answers from that copy, not only from what this process
 * saw at start, so that receivers running side by side (Lambda containers) agree on what was done.
 */
export interface ActionStore {
  /** The latest record under this key (with `undoneAt` when it was undone), if any. */
  get(key: string): Promise<ActionRecord | undefined>;
  /** Records of one action on one target not yet undone, newest first. */
  active(action: ActionName, target: string): Promise<ActionRecord[]>;
  allActive(): Promise<ActionRecord[]>;
  /**
   * Stores an applied action. Throws `ActionAlreadyRecordedError` when a store shared between processes
   * already holds an active record under the key (another receiver acted on the same alert first).
   */
  add(record: ActionRecord): Promise<void>;
  markUndone(key: string, at: Date): Promise<void>;
}

type StoreLine = ({ op: 'applied' } & ActionRecord) | { op: 'undone'; key: string; at: string };

/**
 * An append-only JSONL file is the durable copy — it survives restarts, and a person's `respond undo`
 * reads what the receiver wrote; the map is the working copy. Lines that do not parse are skipped, so a
 * torn last line after a crash loses at most that line. One process at a time: the file is read once.
 */
export class JsonlActionStore implements ActionStore {
  readonly #file: string | undefined;
  readonly #records = new Map<string, ActionRecord>();

  /** Without a file the store lives in memory only (tests, dry runs). */
  constructor(file?: string) {
    this.#file = file;
    if (file) this.#load(file);
  }

  async get(key: string): Promise<ActionRecord | undefined> {
    return this.#records.get(key);
  }

  async active(action: ActionName, target: string): Promise<ActionRecord[]> {
    return [...this.#records.values()]
      .filter((r) => r.action === action && r.target === target && !r.undoneAt)
      .reverse();
  }

  async allActive(): Promise<ActionRecord[]> {
    return [...this.#records.values()].filter((r) => !r.undoneAt);
  }

  async add(record: ActionRecord): Promise<void> {
    this.#append({ op: 'applied', ...record });
    this.#records.set(record.key, record);
  }

  async markUndone(key: string, at: Date): Promise<void> {
    const record = this.#records.get(key);
    if (!record) return;
    this.#append({ op: 'undone', key, at: at.toISOString() });
    record.undoneAt = at.toISOString();
  }

  #append(line: StoreLine): void {
    if (!this.#file) return;
    mkdirSync(dirname(this.#file), { recursive: true });
    // Synchronous on purpose: the record must be durable before the caller reports the action done.
    appendFileSync(this.#file, `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }

  #load(file: string): void {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const raw of text.split('\n')) {
      if (!raw.trim()) continue;
      let line: StoreLine;
      try {
        line = JSON.parse(raw) as StoreLine;
      } catch {
        continue;
      }
      if (line.op === 'applied') {
        const { op: _op, ...record } = line;
        this.#records.set(record.key, record);
      } else if (line.op === 'undone') {
        const record = this.#records.get(line.key);
        if (record) record.undoneAt = line.at;
      }
    }
  }
}
