import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMap } from '../../../src/commands/map.js';
import {
  cloudTrailObjectText,
  generateCloudTrailRecords,
  generateFlowLines,
} from '../../../src/samples/index.js';

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
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
    await writeFile(bad, '{"eventID":"a","eventName":"X"}\n{nope}\n{"eventID":"c","eventName":"Y"}\n');
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
