import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_HEAP_MB, heapCapFor, heapFlags } from '../../src/launcher.js';

describe('heapCapFor', () => {
  it('caps run and replay, after global options, and leaves other commands alone', () => {
    expect(heapCapFor(['run', '--config', 'c.yml'], {}, [])).toBe(DEFAULT_MAX_HEAP_MB);
    expect(heapCapFor(['--log-level', 'debug', 'replay', 's3://b/p'], {}, [])).toBe(DEFAULT_MAX_HEAP_MB);
    expect(heapCapFor(['map', '--type', 'auto', 'f.json'], {}, [])).toBeUndefined();
    expect(heapCapFor(['--log-level', 'run'], {}, [])).toBeUndefined();
    expect(heapCapFor([], {}, [])).toBeUndefined();
  });

  it('keeps a cap the operator chose, takes ASC_MAX_HEAP_MB, and never relaunches twice', () => {
    expect(
      heapCapFor(['run'], { NODE_OPTIONS: '--enable-source-maps --max-old-space-size=512' }, []),
    ).toBeUndefined();
    expect(heapCapFor(['run'], {}, ['--max_old_space_size=300'])).toBeUndefined();
    expect(heapCapFor(['run'], { ASC_MAX_HEAP_MB: '256' }, [])).toBe(256);
    expect(heapCapFor(['run'], { ASC_MAX_HEAP_MB: '0' }, [])).toBeUndefined();
    expect(heapCapFor(['run'], { ASC_LAUNCHED_WITH_HEAP_CAP: '160' }, [])).toBeUndefined();
    expect(() => heapCapFor(['run'], { ASC_MAX_HEAP_MB: 'lots' }, [])).toThrow(/ASC_MAX_HEAP_MB/);
  });

  it("relaunches with the cap, a young generation, the old space's growth and first size, keeping what the operator chose", () => {
    expect(heapFlags(160, {}, [])).toEqual([
      '--max-old-space-size=160',
      '--max-semi-space-size=8',
      '--heap-growing-percent=50',
      '--initial-old-space-size=64',
    ]);
    expect(heapFlags(200, { NODE_OPTIONS: '--max-semi-space-size=32' }, [])).toEqual([
      '--max-old-space-size=200',
      '--heap-growing-percent=50',
      '--initial-old-space-size=64',
    ]);
    expect(heapFlags(100, {}, [])).toContain('--initial-old-space-size=40');
    expect(
      heapFlags(160, {}, [
        '--max_semi_space_size=4',
        '--heap-growing-percent=200',
        '--initial-old-space-size=20',
      ]),
    ).toEqual(['--max-old-space-size=160']);
  });
});
