import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createMetrics } from '../../../src/observe/index.js';
import { createInStreamDetection, MAX_PENDING_ALERT_BYTES } from '../../../src/pipeline/detect.js';
import { captureLogger } from '../sink/hec/helpers.js';
import { failedConsoleLoginRecord as failedLogin } from '../support/console-login.js';

// The real appendFile, which a test can make hang for one call (a hung disk or NFS mount).
vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  return { ...fs, appendFile: vi.fn(fs.appendFile) };
});

const rulesDir = new URL('../../../rules/', import.meta.url).pathname;

async function detectionAt(alertsFile: string, alertLogLinesPerSecond = 0) {
  const { log, lines } = captureLogger();
  const metrics = createMetrics();
  const detection = await createInStreamDetection(
    { enabled: true, rulesDir, alertsFile, alertLogLinesPerSecond } as Parameters<
      typeof createInStreamDetection
    >[0],
    { log, metrics, alertsFile },
  );
  if (!detection) throw new Error('detection off');
  const failures = async () =>
    (await metrics.alertWriteFailures.get()).values.map((v) => [v.labels.code, v.value]);
  const errors = () => lines().filter((l) => l.level === 50);
  const fired = () => lines().filter((l) => l.msg === 'detection fired');
  const summaries = () => lines().filter((l) => /^detection fired \d+ more times/.test(String(l.msg)));
  const alertsCounted = async () => (await metrics.alerts.get()).values.reduce((n, v) => n + v.value, 0);
  return { detection, failures, errors, fired, summaries, alertsCounted };
}

// Each case loads the bundled rules, which takes a moment under the test transform.
describe('in-stream detection alerts file', { timeout: 20_000 }, () => {
  it('survives an alerts file that cannot be written: counts, logs once, tries later alerts and fails finish()', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-alerts-'));
    const alertsFile = join(dir, 'alerts.ndjson');
    mkdirSync(alertsFile); // a directory in the file's place: every append fails with EISDIR
    const { detection, failures, errors } = await detectionAt(alertsFile);
    detection.observe(failedLogin(1), 'e1');
    detection.observe(failedLogin(2), 'e2');
    expect(detection.alerts).toBeGreaterThanOrEqual(2);
    // The appends fail in the background; wait for them rather than for a fixed time.
    await vi.waitFor(async () => expect(await failures()).toEqual([['EISDIR', detection.alerts]]), {
      timeout: 10_000,
    });
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({ code: 'EISDIR', alertsFile });

    // The chain is alive: once the path is usable again, the next alert is written.
    rmdirSync(alertsFile);
    const before = detection.alerts;
    detection.observe(failedLogin(3), 'e3');
    await expect(detection.finish()).rejects.toMatchObject({
      code: 'DETECTION_ALERTS_UNWRITTEN',
      details: { lost: before, errno: 'EISDIR' },
    });
    const written = readFileSync(alertsFile, 'utf8').trim().split('\n');
    expect(written).toHaveLength(detection.alerts - before);
    expect(JSON.parse(written[0]!).source_event_ids).toEqual(['e3']);
  });

  it('survives a directory that cannot be made, at start-up and at each alert', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'asc-alerts-'));
    writeFileSync(join(dir, 'afile'), '');
    const alertsFile = join(dir, 'afile', 'alerts.ndjson'); // its parent is a file
    const { detection, failures, errors } = await detectionAt(alertsFile);
    await vi.waitFor(() => expect(errors()).toHaveLength(1), { timeout: 10_000 });
    expect(await failures()).toEqual([]);
    detection.observe(failedLogin(1), 'e1');
    await expect(detection.finish()).rejects.toMatchObject({ code: 'DETECTION_ALERTS_UNWRITTEN' });
    expect((await failures()).map(([, n]) => n)).toEqual([detection.alerts]);
    expect(errors()).toHaveLength(1);
  });

  it('makes the directory again when it disappears after it was made', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'asc-alerts-')), 'out');
    const alertsFile = join(dir, 'alerts.ndjson');
    const { detection, errors } = await detectionAt(alertsFile);
    await vi.waitFor(() => expect(existsSync(dir)).toBe(true), { timeout: 10_000 });
    rmdirSync(dir); // made at start-up, removed before the first alert
    detection.observe(failedLogin(1), 'e1');
    const count = await detection.finish();
    expect(readFileSync(alertsFile, 'utf8').trim().split('\n')).toHaveLength(count);
    expect(errors()).toEqual([]);
  });

  it('writes every alert and resolves finish() with the count when the file is writable', async () => {
    const alertsFile = join(mkdtempSync(join(tmpdir(), 'asc-alerts-')), 'out', 'alerts.ndjson');
    const { detection, errors } = await detectionAt(alertsFile);
    detection.observe(failedLogin(1), 'e1');
    const count = await detection.finish();
    expect(count).toBeGreaterThan(0);
    expect(readFileSync(alertsFile, 'utf8').trim().split('\n')).toHaveLength(count);
    expect(errors()).toEqual([]);
  });
  it('writes alerts fired while a write is in progress, all of them and in the order they fired', async () => {
    const alertsFile = join(mkdtempSync(join(tmpdir(), 'asc-alerts-')), 'alerts.ndjson');
    const { detection } = await detectionAt(alertsFile);
    // Alerts arrive in every phase of the writer: same tick, next microtask, after an I/O turn.
    for (let n = 1; n <= 60; n++) {
      detection.observe(failedLogin(n), `e${n}`);
      if (n % 3 === 1) await Promise.resolve();
      if (n % 3 === 2) await new Promise((r) => setImmediate(r));
    }
    const count = await detection.finish();
    const ids = readFileSync(alertsFile, 'utf8')
      .trim()
      .split('\n')
      .map((line) => (JSON.parse(line) as { source_event_ids: string[] }).source_event_ids[0]);
    expect(ids).toHaveLength(count);
    // The single-event rule's alerts in firing order; correlation alerts closed by finish() come after.
    expect(ids.slice(0, 60)).toEqual(Array.from({ length: 60 }, (_, i) => `e${i + 1}`));
  });

  it('holds a bounded backlog while a write hangs: alerts past it are counted and logged as lost', async () => {
    const alertsFile = join(mkdtempSync(join(tmpdir(), 'asc-alerts-')), 'alerts.ndjson');
    const { detection, failures, errors } = await detectionAt(alertsFile);
    const { appendFile: realAppendFile } =
      await vi.importActual<typeof import('node:fs/promises')>('node:fs/promises');
    let release = () => {};
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    const append = vi.mocked(appendFile);
    append.mockClear();
    append.mockImplementationOnce(async (...args) => {
      await hung;
      return realAppendFile(...args);
    });
    detection.observe(failedLogin(1), 'e1');
    await vi.waitFor(() => expect(append).toHaveBeenCalledTimes(1));
    // Some 320 bytes an alert: well past the backlog's worth while the first write hangs.
    const fired = Math.ceil((1.25 * MAX_PENDING_ALERT_BYTES) / 320);
    for (let n = 2; n <= fired; n++) detection.observe(failedLogin(n), `e${n}`);

    const [[code, lost] = []] = await failures();
    expect(code).toBe('ALERTS_BACKLOG_FULL');
    expect(lost).toBeGreaterThan(fired / 8);
    expect(errors()).toEqual([expect.objectContaining({ code: 'ALERTS_BACKLOG_FULL', alertsFile })]);

    release();
    // Once the backlog is on its way to the file, the alerts that finish() closes have room again.
    await vi.waitFor(() => expect(append).toHaveBeenCalledTimes(2));
    await expect(detection.finish()).rejects.toMatchObject({
      code: 'DETECTION_ALERTS_UNWRITTEN',
      details: { lost, errno: 'ALERTS_BACKLOG_FULL' },
    });
    // What waited went out in writes of at most the backlog's size, and nothing else is missing.
    for (const [, text] of append.mock.calls.slice(1)) {
      expect(Buffer.byteLength(text as string)).toBeLessThanOrEqual(MAX_PENDING_ALERT_BYTES);
    }
    const written = readFileSync(alertsFile, 'utf8').trim().split('\n');
    expect(written.length + (lost as number)).toBe(detection.alerts);
    expect(JSON.parse(written[0]!).source_event_ids).toEqual(['e1']);
  });
});

describe('in-stream detection log lines', { timeout: 20_000 }, () => {
  it('logs at most the configured lines a second and sums the rest per rule into one line; the file and the counter have every alert', async () => {
    const alertsFile = join(mkdtempSync(join(tmpdir(), 'asc-alerts-')), 'alerts.ndjson');
    const { detection, fired, summaries, alertsCounted } = await detectionAt(alertsFile, 5);
    for (let n = 1; n <= 30; n++) detection.observe(failedLogin(n), `e${n}`);
    expect(detection.alerts).toBeGreaterThanOrEqual(30);
    expect(fired()).toHaveLength(5);
    expect(summaries()).toEqual([]);
    const count = await detection.finish();
    expect(fired()).toHaveLength(5);
    const [summary] = summaries();
    expect(summaries()).toHaveLength(1);
    expect(summary!.alerts).toBe(count - 5);
    const perRule = Object.values(summary!.rules as Record<string, number>);
    expect(perRule.reduce((a, b) => a + b, 0)).toBe(count - 5);
    expect(readFileSync(alertsFile, 'utf8').trim().split('\n')).toHaveLength(count);
    expect(await alertsCounted()).toBe(count);
  });

  it('reports what it held back a second later, without waiting for the end', async () => {
    const alertsFile = join(mkdtempSync(join(tmpdir(), 'asc-alerts-')), 'alerts.ndjson');
    const { detection, fired, summaries } = await detectionAt(alertsFile, 2);
    for (let n = 1; n <= 6; n++) detection.observe(failedLogin(n), `e${n}`);
    expect(fired()).toHaveLength(2);
    await vi.waitFor(() => expect(summaries()).toHaveLength(1), { timeout: 3_000 });
    expect(summaries()[0]!.alerts).toBe(detection.alerts - 2);
    await detection.finish();
  });

  it('logs every alert with 0, and every alert while the alerts file cannot be written', async () => {
    const unlimited = await detectionAt(join(mkdtempSync(join(tmpdir(), 'asc-alerts-')), 'a.ndjson'), 0);
    for (let n = 1; n <= 30; n++) unlimited.detection.observe(failedLogin(n), `e${n}`);
    expect(unlimited.fired()).toHaveLength(unlimited.detection.alerts);
    await unlimited.detection.finish();

    const alertsFile = join(mkdtempSync(join(tmpdir(), 'asc-alerts-')), 'alerts.ndjson');
    mkdirSync(alertsFile); // every append fails with EISDIR
    const failing = await detectionAt(alertsFile, 1);
    failing.detection.observe(failedLogin(1), 'e1');
    await vi.waitFor(async () => expect(await failing.failures()).not.toEqual([]), { timeout: 10_000 });
    for (let n = 2; n <= 20; n++) failing.detection.observe(failedLogin(n), `e${n}`);
    expect(failing.fired()).toHaveLength(failing.detection.alerts);
    await expect(failing.detection.finish()).rejects.toMatchObject({ code: 'DETECTION_ALERTS_UNWRITTEN' });
  });
});
