import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Every path is derived from this file's location, so two checkouts never share state or ports.
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const servicesSourceDir = path.join(repoRoot, 'test', 'services');
export const cacheDir = path.join(repoRoot, '.cache');
export const servicesCacheDir = path.join(cacheDir, 'services');
export const stateFile = path.join(servicesCacheDir, 'state.json');
export const lockFile = path.join(servicesCacheDir, 'lock');

/** Paths are shown relative to the repository so messages read the same on every machine. */
export function displayPath(absolute: string): string {
  const relative = path.relative(repoRoot, absolute);
  return relative.startsWith('..') ? absolute : relative;
}
