import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DETECT_EXIT, detectCommand, runDetect } from '../../../src/commands/detect.js';
import { DEFAULT_DECODE_LIMITS } from '../../../src/decode/codes.js';
import type { CorrelationLimits } from '../../../src/detection/correlate.js';
import { failedConsoleLoginDoc } from '../support/console-login.js';

const failedLoginLine = (n: number) => `${JSON.stringify(failedConsoleLoginDoc(n))}\n`;

const rulesDir = fileURLToPath(new URL('../../../rules/', import.meta.url));

function collector() {
  const parts: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => parts.join('') };
}

/** Runs `detect` over stdin from `stdin`, which may look at what stderr has had so far. */
async function detect(
  stdin: (stderrSoFar: () => string) => AsyncIterable<Uint8Array>,
  limits?: Partial<CorrelationLimits>,
) {
  const stdout = collector();
  const stderr = collector();
  const summary = await runDetect({
    files: ['-'],
    ...(limits ? { limits } : {}),
    rulesDir,
    type: 'ecs',
    stdin: Readable.from(stdin(stderr.text)),
    stdout: stdout.stream,
    stderr: stderr.stream,
  });
  return { summary, stdout: stdout.text(), stderr: stderr.text() };
}

// Each case loads the bundled rules, which takes a moment under the test transform.
describe('detect command', { timeout: 20_000 }, () => {
  it('writes each rejected record to stderr as it is read, not when the input ends', async () => {
    let seenBeforeEnd = '';
    async function* stdin(stderrSoFar: () => string): AsyncGenerator<Uint8Array> {
      yield Buffer.from('not json\n');
      // The rest of the input comes once the rejection is out (or after a second, when it never is).
      for (let waited = 0; waited < 1000 && stderrSoFar() === ''; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      seenBeforeEnd = stderrSoFar();
      yield Buffer.from(failedLoginLine(2));
    }
    const { summary, stdout, stderr } = await detect(stdin);
    expect(seenBeforeEnd).toMatch(/^<stdin>: record 1: DETECT_INVALID_JSON: /);
    expect(stderr).toBe(seenBeforeEnd);
    expect(summary).toMatchObject({ records: 1, problems: 1 });
    expect(summary.alerts).toBeGreaterThan(0);
    expect(stdout.trim().split('\n')).toHaveLength(summary.alerts);
  });

  it('reads input without newlines only up to the record limit: one rejected line, then the lines after it', async () => {
    const limit = DEFAULT_DECODE_LIMITS.maxRecordBytes;
    const mib = Buffer.alloc(1024 * 1024, 'x');
    async function* stdin(): AsyncGenerator<Uint8Array> {
      // Two MiB past the limit, in 1 MiB chunks, then a newline and a line that fires.
      for (let i = 0; i < limit / mib.length + 2; i++) yield mib;
      yield Buffer.from(`\n${failedLoginLine(2)}`);
    }
    const { summary, stdout, stderr } = await detect(stdin);
    expect(stderr).toBe(
      `<stdin>: record 1: DECODE_RECORD_TOO_LARGE: line 1: longer than the ${limit}-byte record limit\n`,
    );
    expect(summary).toMatchObject({ records: 1, problems: 1 });
    expect(summary.alerts).toBeGreaterThan(0);
    expect(stdout.trim().split('\n')).toHaveLength(summary.alerts);
  });

  it('holds correlation state within the limits it is given', async () => {
    // Five failed sign-ins of one user from one address within a minute: the burst rules want five.
    const fired = async (limits?: Partial<CorrelationLimits>) => {
      const { stdout } = await detect(async function* () {
        for (let n = 1; n <= 5; n++) yield Buffer.from(failedLoginLine(n));
      }, limits);
      return stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { rule: { name: string } }).rule.name);
    };
    const burst = /burst/;
    expect((await fired()).filter((name) => burst.test(name))).toHaveLength(2);
    // Windows of three events (four for a moment, as an event joins) cannot count to five.
    expect((await fired({ maxWindowEvents: 3 })).filter((name) => burst.test(name))).toEqual([]);
  });
});

describe('detect command options', () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it.each([
    ['maxGroups', '0', '--max-groups'],
    ['maxWindowEvents', '1.5', '--max-window-events'],
    ['maxGroups', 'many', '--max-groups'],
  ] as const)('refuses %s %s as a usage error', async (key, value, flag) => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await detectCommand([], { [key]: value });
    expect(process.exitCode).toBe(DETECT_EXIT.usage);
    expect(stderr).toHaveBeenCalledWith(
      `aws-siem-connector detect: ${flag} must be a positive whole number, not "${value}"\n`,
    );
  });
});
