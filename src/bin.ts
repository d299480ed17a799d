#!/usr/bin/env node
// The installed command. It decides about the heap before loading anything else, so that when it only
// watches a relaunched process (see launcher.ts) it stays as small as a node process can be.
import { heapCapFor, relaunchWithHeapCap } from './launcher.js';

let heapMb: number | undefined;
try {
  heapMb = heapCapFor(process.argv.slice(2), process.env, process.execArgv);
} catch (err) {
  process.stderr.write(`aws-siem-connector: ${(err as Error).message}\n`);
  process.exit(2);
}
if (heapMb === undefined) {
  const { runAsMain } = await import('./cli.js');
  runAsMain();
} else {
  relaunchWithHeapCap(heapMb);
}
