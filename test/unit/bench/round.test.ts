import { describe, expect, it } from 'vitest';
import { round } from '../../../src/bench/pipeline.js';

describe('bench figures', () => {
  it('round to the given decimals', () => {
    expect(round(12.3456, 2)).toBe(12.35);
    expect(round(0.125, 3)).toBe(0.125);
    expect(round(0, 2)).toBe(0);
  });

  it('keep two significant digits where the decimals would read 0 (a slow run is slow, not nothing)', () => {
    expect(round(0.0041234, 2)).toBe(0.0041);
    expect(round(-0.0041234, 2)).toBe(-0.0041);
  });
});
