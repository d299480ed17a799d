import { spawn } from 'node:child_process';

/** The commands that stream without end or over whole buckets; the others are short or interactive. */
const HEAP_CAPPED_COMMANDS = new Set(['run', 'replay']);

/** V8 old-space cap for `run` and `replay` unless the operator chose one (MB). */
export const DEFAULT_MAX_HEAP_MB = 160;

/**
 * V8's young generation for the relaunched process (MB per semi-space) unless the operator chose one. It
 * has to be named: given only an old-space cap, V8 sizes it from that cap, far below its usual 16 MB. The
 * size trades CPU for memory: through `run` with eight objects in flight, 16 MB took 15-25 % less CPU per
 * record than 8 (scavenges copy the records and lines in flight less often), but one 200 MB object to
 * OpenSearch then peaked at 248-260 MiB against 231 at 8, past the 256 MB budget (docs/performance.md).
 */
export const SEMI_SPACE_MB = 8;

/**
 * How far V8 lets the old space grow past what a major collection left alive before it marks again, in
 * percent, unless the operator chose one (on node's command line: NODE_OPTIONS does not take it). V8
 * derives it from the heap's maximum: 30 % for any cap below 256 MB, so at 160 MB it marked the whole heap
 * every few megabytes of promoted records. The cap still bounds memory whatever the growth. Through `run`
 * (HEC, 40 objects of 2 MB, detection on): 79 µs of CPU per record at 50 against 108 at V8's 30 %, 67 at
 * 100; one 200 MB object to OpenSearch peaked at about 220 MiB at 50 and 246 at 100, too near the 256 MB
 * budget (docs/performance.md).
 */
export const HEAP_GROWING_PERCENT = 50;

/**
 * The old space's first size (MB), at most 40 % of the cap, unless the operator chose one (on node's
 * command line: NODE_OPTIONS does not take it). Left to itself, V8 shrinks its first limit to what the
 * first collections leave alive (some 25 MB here) and then marks the whole heap every 10 MB or so of
 * promoted records; a configured first size keeps the limit higher (marking at 40-45 MB instead of 31-36).
 * Through `run` (HEC, 60 objects of 2 MB, detection on): 8 % more MiB per CPU-second, peak 192-200 MiB
 * against 177-184; one 200 MB object to HEC 12 % more, 208 MiB against 190; to OpenSearch no faster, 226-234
 * against 223-230 (docs/performance.md). Fixed rather than a share of any cap: a larger cap gives room for
 * more work in flight, and should not make an idle consumer hold more.
 */
export const INITIAL_OLD_SPACE_MB = 64;

/** Set in the relaunched process, so that it never relaunches again. */
const LAUNCHED_ENV = 'ASC_LAUNCHED_WITH_HEAP_CAP';

/** The first argument that names a command, skipping global options (and the value of --log-level). */
function commandOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--log-level') i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}

/**
 * The old-space cap (MB) to relaunch with, or undefined to run as started.
 *
 * V8 sizes its heap from the machine's memory, not from the work: on a large host a streaming consumer
 * lets garbage pile up to several hundred MB before collecting it, although what it holds alive is small
 * and bounded by the sink settings (one 200 MB object: 295 MiB to HEC, 403 MiB to OpenSearch; relaunched
 * with the cap, 252 and 253 MiB for both processes, and OpenSearch twice as fast; with the smaller young
 * generation too, 219–226 and 225–250 MiB). So `run` and `replay` cap it unless a cap was chosen already
 * (`--max-old-space-size` in NODE_OPTIONS or on node's command line, as the container image does);
 * `ASC_MAX_HEAP_MB` sets the cap, 0 turns the relaunch off.
 */
export function heapCapFor(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  execArgv: readonly string[],
): number | undefined {
  if (env[LAUNCHED_ENV] !== undefined) return undefined;
  const command = commandOf(args);
  if (command === undefined || !HEAP_CAPPED_COMMANDS.has(command)) return undefined;
  if (nodeFlagChosen(/^--max[-_]old[-_]space[-_]size/, env, execArgv)) return undefined;
  const raw = env.ASC_MAX_HEAP_MB;
  if (raw === undefined || raw.trim() === '') return DEFAULT_MAX_HEAP_MB;
  const mb = Number(raw);
  if (!Number.isInteger(mb) || mb < 0) {
    throw new Error(
      `ASC_MAX_HEAP_MB must be a whole number of megabytes (0 turns the cap off), not "${raw}"`,
    );
  }
  return mb === 0 ? undefined : mb;
}

/** Whether a node flag was given on node's command line or in NODE_OPTIONS. */
function nodeFlagChosen(flag: RegExp, env: NodeJS.ProcessEnv, execArgv: readonly string[]): boolean {
  return [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => flag.test(a));
}

/**
 * The node flags the relaunched process gets: the old-space cap, and the young generation, the old space's
 * growth and its first size unless chosen.
 */
export function heapFlags(heapMb: number, env: NodeJS.ProcessEnv, execArgv: readonly string[]): string[] {
  const flags = [`--max-old-space-size=${heapMb}`];
  if (!nodeFlagChosen(/^--max[-_]semi[-_]space[-_]size/, env, execArgv))
    flags.push(`--max-semi-space-size=${SEMI_SPACE_MB}`);
  if (!nodeFlagChosen(/^--heap[-_]growing[-_]percent/, env, execArgv))
    flags.push(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  if (!nodeFlagChosen(/^--initial[-_]old[-_]space[-_]size/, env, execArgv))
    flags.push(`--initial-old-space-size=${Math.min(INITIAL_OLD_SPACE_MB, Math.round(heapMb * 0.4))}`);
  return flags;
}

const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

/**
 * Runs this same command again in a child node process with the old space capped, and mirrors its end.
 * Signals are passed on. If this process dies without passing anything on (SIGKILL), the child notices
 * the closed channel and dies the same way: no consumer is left running unseen.
 */
export function relaunchWithHeapCap(heapMb: number): void {
  const child = spawn(
    process.execPath,
    [...process.execArgv, ...heapFlags(heapMb, process.env, process.execArgv), ...process.argv.slice(1)],
    {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, [LAUNCHED_ENV]: String(heapMb) },
      // Its own process group (POSIX), so that a terminal's Ctrl-C reaches it once, through the launcher;
      // on Windows `detached` would open a console of its own instead.
      detached: process.platform !== 'win32',
    },
  );
  for (const signal of FORWARDED_SIGNALS) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`aws-siem-connector: could not start the command: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const s of FORWARDED_SIGNALS) process.removeAllListeners(s);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}

/** In a relaunched process: end with the launcher, as if killed with it. */
export function followLauncher(): void {
  if (process.env[LAUNCHED_ENV] === undefined || !process.send) return;
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  // The channel must not keep the process alive on its own, nor hold it back from exiting.
  process.channel?.unref();
}
