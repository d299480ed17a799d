import { describe, expect, it } from 'vitest';
import { Endpoint } from '../../../../src/sink/hec/transport.js';

describe('Endpoint', () => {
  it('honours Retry-After only up to the max delay', () => {
    const e = new Endpoint('https://hec.example:8088');
    e.markDown(1_000, 900_000, 30_000);
    expect(e.downUntil).toBe(31_000);
    expect(e.isUp(30_999)).toBe(false);
  });

  it('after its down time it is due for a health probe until marked up', () => {
    const e = new Endpoint('https://hec.example:8088/services/collector/event');
    expect(e.basePath).toBe('');
    expect(e.needsProbe).toBe(false);
    e.markDown(0, undefined, 30_000);
    expect(e.isUp(250)).toBe(true);
    expect(e.needsProbe).toBe(true);
    e.stillDown(250, 5_000);
    expect(e.isUp(5_249)).toBe(false);
    e.markUp();
    expect(e.needsProbe).toBe(false);
  });
});
