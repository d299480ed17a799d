import { describe, expect, it } from 'vitest';
import { isWholeNumber } from '../../../src/map/whole-number.js';

describe('isWholeNumber', () => {
  it('accepts ASCII digits only, as the CIM mapper does', () => {
    for (const text of ['0', '7', '443', '1418530070', '007'])
      expect([text, isWholeNumber(text)]).toEqual([text, /^\d+$/.test(text)]);
    for (const text of ['', '-', '-1', '+1', '1.5', '1e3', '0x1f', ' 7', '7 ', 'abc', '١٢'])
      expect([text, isWholeNumber(text)]).toEqual([text, false]);
  });
});
