import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAP_EXIT, type MapCommandOptions, mapCommand, runMap } from '../../../src/commands/map.js';
import {
  cloudTrailObjectText,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../../src/samples/index.js';
import { writeGeoDatabases } from '../support/mmdb.js';

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs `map` as the CLI does, with process stdout, stderr and exit code captured. */
async function mapCli(files: string[], options: MapCommandOptions) {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out += chunk.toString();
    return true;
  });
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err += chunk.toString();
    return true;
  });
  const before = process.exitCode;
  process.exitCode = undefined;
  try {
    await mapCommand(files, options);
    return { code: process.exitCode, out, err };
  } finally {
    process.exitCode = before;
    stdout.mockRestore();
    stderr.mockRestore();
  }
}

describe('map command', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'asc-map-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (
    files: string[],
    type: 'auto' | 'cloudtrail' | 'vpcflow' = 'auto',
    stdin = new PassThrough(),
  ) => {
    const stdout = new Collect();
    const stderr = new Collect();
    const summary = await runMap({ files, type, schema: 'ecs', stdin, stdout, stderr });
    return { summary, out: stdout.text, err: stderr.text };
  };

  it('writes one ECS document per record, in input order, across files', async () => {
    const trail = join(dir, 'trail.json.gz');
    const recs = generateCloudTrailRecords({ seed: 2, count: 30 });
    await writeFile(trail, gzipSync(cloudTrailObjectText(recs)));
    const flow = join(dir, 'flow.log');
    await writeFile(flow, `${generateFlowLines({ seed: 2, count: 10, version: 2 }).join('\n')}\n`);
    const { summary, out, err } = await run([trail, flow]);
    const docs = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(summary).toEqual({ mapped: 40, rejected: 0, skipped: 0 });
    expect(err).toBe('');
    expect(docs.slice(0, 30).map((d) => d.event.id)).toEqual(recs.map((r) => r.eventID));
    expect(docs[30].data_stream.dataset).toBe('aws.vpcflow');
  });

  it('reports rejects on stderr with file and record, keeps the good ones, and counts them', async () => {
    const bad = join(dir, 'bad.ndjson');
    const at = '"eventTime":"2026-11-28T10:00:00Z"';
    await writeFile(
      bad,
      `{"eventID":"a","eventName":"X",${at}}\n{nope}\n{"eventID":"c","eventName":"Y",${at}}\n`,
    );
    const { summary, out, err } = await run([bad], 'cloudtrail');
    expect(summary).toMatchObject({ mapped: 2, rejected: 1 });
    expect(
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).event.id),
    ).toEqual(['a', 'c']);
    expect(err).toContain(`${bad}: DECODE_INVALID_JSON: record 2`);
    const missing = await run([join(dir, 'missing.json')], 'cloudtrail');
    expect(missing.summary.rejected).toBe(1);
    expect(missing.err).toMatch(/missing\.json: cannot read/);
  });

  it('ECS: records without a usable time or with a bad number go to stderr; the good ones still print', async () => {
    const good = (id: string) => ({ eventID: id, eventName: 'X', eventTime: '2026-11-28T10:00:00Z' });
    const trail = join(dir, 'mixed.json');
    await writeFile(
      trail,
      JSON.stringify({ Records: [good('a'), {}, { eventID: 'b', eventTime: 'garbage' }, good('c')] }),
    );
    const ct = await run([trail], 'cloudtrail');
    expect(ct.summary).toEqual({ mapped: 2, rejected: 2, skipped: 0 });
    expect(
      ct.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).event.id),
    ).toEqual(['a', 'c']);
    expect(ct.err).toContain(`${trail}: record 2: MAP_FAILED: ${trail} record 2: eventTime is missing\n`);
    expect(ct.err).toContain(`record 3: eventTime "garbage" is not a timestamp\n`);

    const flows = join(dir, 'mixed.log');
    await writeFile(
      flows,
      [
        '2 1 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1418530010 1418530070 ACCEPT OK',
        '2 1 eni-1 10.0.0.1 10.0.0.2 443 abc 6 10 840 1418530010 1418530070 ACCEPT OK',
        '2 1 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 xx 1418530070 ACCEPT OK',
        '2 1 eni-1 - - - - - - - 1418530010 1418530070 - NODATA',
      ].join('\n'),
    );
    const fl = await run([flows], 'vpcflow');
    expect(fl.summary).toEqual({ mapped: 2, rejected: 2, skipped: 0 });
    expect(
      fl.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).aws.vpcflow.log_status),
    ).toEqual(['OK', 'NODATA']);
    expect(fl.err).toContain(
      `${flows}: line 2: MAP_FAILED: ${flows} line 2: dstport "abc" is not a whole number\n`,
    );
    expect(fl.err).toContain(`line 3: start "xx" is not a whole number\n`);
  });

  it('exits 1 when a record was rejected, 0 when all mapped', async () => {
    const trail = join(dir, 'exit.json');
    const exitStatus = async (records: unknown[]) => {
      await writeFile(trail, JSON.stringify({ Records: records }));
      return mapCli([trail], { type: 'cloudtrail', schema: 'ecs' });
    };
    const ok = { eventID: 'a', eventName: 'X', eventTime: '2026-11-28T10:00:00Z' };
    const mixed = await exitStatus([ok, { eventID: 'b', eventTime: 'garbage' }]);
    expect(mixed.code).toBe(MAP_EXIT.rejected);
    expect(JSON.parse(mixed.out).event.id).toBe('a');
    expect(mixed.err).toContain('record 2: eventTime "garbage" is not a timestamp');
    const clean = await exitStatus([ok]);
    expect(clean.code ?? 0).toBe(MAP_EXIT.ok);
    expect(clean.err).toBe('');
  });

  it('applies the mapping section of --config (GeoIP), and refuses a config it cannot use', async () => {
    const trail = join(dir, 'geo.json');
    const record = {
      eventID: 'g',
      eventName: 'X',
      eventTime: '2026-11-28T10:00:00Z',
      sourceIPAddress: '203.0.113.9',
    };
    await writeFile(trail, JSON.stringify({ Records: [record] }));
    const { city } = writeGeoDatabases(dir, '203.0.113.0/24', {
      city: { country: { iso_code: 'NZ' } },
      asn: { autonomous_system_number: 64500 },
    });
    const config = join(dir, 'connector.yml');
    const withConfig = async (file: string) => {
      await writeFile(config, file);
      return mapCli([trail], { type: 'cloudtrail', schema: 'ecs', config });
    };
    const mapped = await withConfig(`mapping:\n  geoip:\n    city: ${JSON.stringify(city)}\n`);
    expect(mapped.err).toBe('');
    expect(JSON.parse(mapped.out).source.geo).toEqual({ country_iso_code: 'NZ' });
    const missing = await withConfig(
      `mapping:\n  geoip:\n    city: ${JSON.stringify(join(dir, 'none.mmdb'))}\n`,
    );
    expect(missing.code).toBe(MAP_EXIT.usage);
    expect(missing.out).toBe('');
    expect(missing.err).toContain('mapping.geoip');
  });

  it('reads header-less flow lines in the format --config declares (pipeline.flowFormats)', async () => {
    // A custom 14-field format: without its declaration the line is taken for AWS's default layout.
    const format =
      'srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status version account-id interface-id';
    const line = '10.0.0.1 10.0.0.2 49152 443 6 10 840 1700000000 1700000060 REJECT OK 5 123456789012 eni-9';
    const flows = join(dir, 'firehose-flows.log');
    await writeFile(flows, `${line}\n`);
    const guessed = await mapCli([flows], { type: 'vpcflow', schema: 'ecs' });
    expect(guessed.code).not.toBe(MAP_EXIT.ok);
    const config = join(dir, 'formats.yml');
    await writeFile(
      config,
      `pipeline:\n  flowFormats: [${JSON.stringify(format.replace(/(\S+)/g, '$${$1}'))}]\n`,
    );
    const declared = await mapCli([flows], { type: 'vpcflow', schema: 'ecs', config });
    expect(declared.err).toBe('');
    const doc = JSON.parse(declared.out);
    expect(doc.source).toMatchObject({ ip: '10.0.0.1', port: 49152 });
    expect(doc.destination).toMatchObject({ ip: '10.0.0.2', port: 443 });
    expect(doc.event.outcome).toBe('failure');
    expect(doc.cloud.account.id).toBe('123456789012');
  });

  it('reads stdin with -', async () => {
    const stdin = new PassThrough();
    stdin.end('2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1418530010 1418530070 ACCEPT OK\n');
    const { summary, out } = await run(['-'], 'vpcflow', stdin);
    expect(summary.mapped).toBe(1);
    expect(JSON.parse(out).network.transport).toBe('tcp');
  });

  it('waits for drain when stdout is slow (back-pressure)', async () => {
    const file = join(dir, 'big.json');
    await writeFile(file, cloudTrailObjectText(generateCloudTrailRecords({ seed: 4, count: 600 })));
    let writes = 0;
    let total = '';
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk, _enc, done) {
        writes++;
        total += chunk.toString();
        setTimeout(done, 1);
      },
    });
    const summary = await runMap({
      files: [file],
      type: 'auto',
      schema: 'ecs',
      stdin: new PassThrough(),
      stdout: slow,
      stderr: new Collect(),
    });
    await new Promise((r) => slow.end(r));
    expect(summary.mapped).toBe(600);
    expect(writes).toBeGreaterThan(1);
    expect(total.trim().split('\n')).toHaveLength(600);
  });
});
