import { appendFile, mkdir } from 'node:fs/promises';

/**
 * Appends text to files in `dir`, making the directory first: once, again after a failed attempt (a
 * volume not mounted yet, a full disk) and again when it went away after it was made (cleaned up,
 * remounted), so none of these stops the writes until a restart. Callers chain their appends.
 */
export function appenderIn(dir: string): {
  /** Makes the directory unless it was made; rejects with the failure. */
  ensureDir(): Promise<void>;
  append(file: string, text: string): Promise<void>;
} {
  let made = false;
  const ensureDir = async (): Promise<void> => {
    if (made) return;
    await mkdir(dir, { recursive: true });
    made = true;
  };
  return {
    ensureDir,
    async append(file, text) {
      await ensureDir();
      try {
        await appendFile(file, text);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        made = false;
        await ensureDir();
        await appendFile(file, text);
      }
    },
  };
}
