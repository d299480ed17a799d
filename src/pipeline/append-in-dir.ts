import { appendFile, mkdir } from 'node:fs/promises';

/**
 * Appends text to files in `dir`, making the directory first: once, again after a failed attempt (a
 * volume not mounted yet, a full disk) and again when it went away after it was made (cleaned up,
 * remounted), so none of these stops the writes until a restart.
 *
 * One append at a time: text queued while an append is in progress waits and goes out with the rest
 * queued for the same file in the next one. An append per piece would queue every piece (and its
 * promise) behind a slow disk, and one at a time keeps concurrent writers from interleaving partial lines.
 */
export interface DirectoryAppender {
  /** Makes the directory unless it was made; rejects with the failure. */
  ensureDir(): Promise<void>;
  /** Queues `text` for `file`; resolves when the append holding it is done, rejects with its failure. */
  append(file: string, text: string): Promise<void>;
  /** UTF-8 bytes queued and not yet taken by an append: what a slow disk makes wait in memory. */
  readonly waitingBytes: number;
  /** Resolves once nothing is queued or being appended. */
  idle(): Promise<void>;
}

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function appenderIn(dir: string): DirectoryAppender {
  let made = false;
  const ensureDir = async (): Promise<void> => {
    if (made) return;
    await mkdir(dir, { recursive: true });
    made = true;
  };
  const appendNow = async (file: string, text: string): Promise<void> => {
    await ensureDir();
    try {
      await appendFile(file, text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      made = false;
      await ensureDir();
      await appendFile(file, text);
    }
  };

  /** Text waiting for the next append, grouped by file in the order it was queued. */
  let queued: Array<{ file: string; texts: string[]; waiters: Waiter[] }> = [];
  let waitingBytes = 0;
  let writing: Promise<void> | undefined;

  const writeAll = async (): Promise<void> => {
    while (queued.length > 0) {
      const groups = queued;
      queued = [];
      waitingBytes = 0;
      for (const { file, texts, waiters } of groups) {
        let failure: { err: unknown } | undefined;
        try {
          await appendNow(file, texts.join(''));
        } catch (err) {
          failure = { err };
        }
        if (failure) for (const w of waiters) w.reject(failure.err);
        else for (const w of waiters) w.resolve();
      }
    }
    // In the same tick as the last check: text queued from now on starts a new writer.
    writing = undefined;
  };

  return {
    ensureDir,
    append(file, text) {
      return new Promise<void>((resolve, reject) => {
        let group = queued.at(-1);
        if (group?.file !== file) {
          group = { file, texts: [], waiters: [] };
          queued.push(group);
        }
        group.texts.push(text);
        group.waiters.push({ resolve, reject });
        waitingBytes += Buffer.byteLength(text);
        writing ??= writeAll();
      });
    },
    get waitingBytes() {
      return waitingBytes;
    },
    async idle() {
      while (writing) await writing;
    },
  };
}
