import {
  appendFileSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
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
  /**
   * Removes the records finished for good — undone (by a person or the TTL sweep) at or before
   * `finishedBefore` — and nothing else: a record not undone is kept however old, since undo and the sweep
   * revert from it. With `dryRun`, reports what it would remove and changes nothing.
   */
  compact(finishedBefore: Date, options?: CompactOptions): Promise<CompactResult>;
}

export interface CompactOptions {
  /** Report what would be removed; remove nothing. */
  dryRun?: boolean | undefined;
}

export interface CompactResult {
  /** The finished records removed (or, in a dry run, that would be), oldest undo first. */
  removed: { key: string; undoneAt: string }[];
  /** More finished records are due than one call removes (a shared store's batch limit): the next sweep goes on. */
  more?: boolean;
}

type StoreLine = ({ op: 'applied' } & ActionRecord) | { op: 'undone'; key: string; at: string };

/**
 * An append-only JSONL file is the durable copy — it survives restarts, and a person's `respond undo`
 * reads what the receiver wrote; the map is the working copy. Lines that do not parse are skipped, so a
 * torn last line after a crash loses at most that line. One process at a time: the file is read once.
 * `compact` rewrites the file without the lines of finished records (a new file renamed over the old one).
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

  async compact(finishedBefore: Date, options: CompactOptions = {}): Promise<CompactResult> {
    const cutoff = finishedBefore.getTime();
    if (!this.#file) {
      const removed = [...this.#records.values()]
        .filter((r) => r.undoneAt !== undefined && Date.parse(r.undoneAt) <= cutoff)
        .map((r) => ({ key: r.key, undoneAt: r.undoneAt! }))
        .sort(byUndoneAt);
      if (!options.dryRun) for (const r of removed) this.#records.delete(r.key);
      return { removed };
    }
    // From the file, not the map: every generation of a key is there (the map holds the latest), and so
    // is what a person's `respond undo` appended since this process read it.
    let before: { size: number; mtimeMs: number };
    let text: string;
    try {
      before = statSync(this.#file);
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { removed: [] };
      throw err;
    }
    const { lines, generations } = readGenerations(text);
    const drop = new Set<number>();
    const removed: CompactResult['removed'] = [];
    for (const gens of generations.values()) {
      // Oldest first, and only while every older generation of the key goes too: a later generation must
      // never be removed from under an earlier one that stays, which would then read as the key's latest.
      for (const gen of gens) {
        if (gen.undoneAt === undefined || !(Date.parse(gen.undoneAt) <= cutoff)) break;
        for (const i of gen.lines) drop.add(i);
        removed.push({ key: gen.key, undoneAt: gen.undoneAt });
      }
    }
    removed.sort(byUndoneAt);
    if (options.dryRun || removed.length === 0) return { removed };
    const kept = lines.filter((line, i) => line.parsed && !drop.has(i)).map((line) => `${line.raw}\n`);
    const next = `${this.#file}.compact-${process.pid}`;
    const fd = openSync(next, 'w', 0o600);
    try {
      writeSync(fd, kept.join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    // Another process (a person's `respond undo|apply`) appended meanwhile: keep its line, compact next time.
    const now = statSync(this.#file);
    if (now.size !== before.size || now.mtimeMs !== before.mtimeMs) {
      rmSync(next, { force: true });
      return { removed: [], more: true };
    }
    renameSync(next, this.#file);
    // A key keeps its map entry while a later generation of it stays in the file.
    for (const { key } of removed) if (!keyKept(generations, key, drop)) this.#records.delete(key);
    return { removed };
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
    for (const { line } of storeLines(text)) {
      if (!line) continue;
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

/** The file's non-blank lines, each with its entry; `line` is unset for one that is not an entry (torn). */
function* storeLines(text: string): Generator<{ raw: string; line?: StoreLine }> {
  for (const raw of text.split('\n')) {
    if (!raw.trim()) continue;
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      line = undefined;
    }
    yield typeof line === 'object' && line !== null ? { raw, line: line as StoreLine } : { raw };
  }
}

interface FileGeneration {
  key: string;
  /** Indexes of its lines: the applied line and the undo line(s). */
  lines: number[];
  undoneAt?: string | undefined;
}

/** The file's lines and, per key in file order, the generations they form (as `#load` reads them). */
function readGenerations(text: string): {
  lines: { raw: string; parsed: boolean }[];
  generations: Map<string, FileGeneration[]>;
} {
  const lines: { raw: string; parsed: boolean }[] = [];
  const generations = new Map<string, FileGeneration[]>();
  for (const { raw, line } of storeLines(text)) {
    // A torn line the loader skips: not carried into the compacted file.
    if (!line) {
      lines.push({ raw, parsed: false });
      continue;
    }
    const index = lines.push({ raw, parsed: true }) - 1;
    const gens = generations.get(line.key) ?? [];
    if (line.op === 'applied') {
      gens.push({ key: line.key, lines: [index] });
      generations.set(line.key, gens);
    } else if (line.op === 'undone') {
      const open = gens.at(-1);
      // An undo of a key never applied is ignored by the loader; it stays, as harmless as it was.
      if (!open) continue;
      open.lines.push(index);
      open.undoneAt = line.at;
    }
  }
  return { lines, generations };
}

/** True while any line of the key survives the compaction. */
function keyKept(generations: Map<string, FileGeneration[]>, key: string, drop: Set<number>): boolean {
  return (generations.get(key) ?? []).some((g) => g.lines.some((i) => !drop.has(i)));
}

function byUndoneAt(a: { key: string; undoneAt: string }, b: { key: string; undoneAt: string }): number {
  return a.undoneAt.localeCompare(b.undoneAt) || a.key.localeCompare(b.key);
}
