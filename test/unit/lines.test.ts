import { describe, expect, it } from 'vitest';
import { encodeLines } from '../../src/lines.js';

const line = (text: string) => ({ line: text, bytes: Buffer.byteLength(text, 'utf8') });

describe('encodeLines', () => {
  it('writes the lines one after another as UTF-8, beyond Latin-1 and surrogate pairs included', () => {
    const lines = [line('{"user":"plain"}\n'), line('{"user":"Zoë 名前 🚀"}\n'), line('{"n":1}\n')];
    const body = encodeLines(lines);
    expect(body.toString('utf8')).toBe(lines.map((l) => l.line).join(''));
    expect(body.length).toBe(lines.reduce((n, l) => n + l.bytes, 0));
  });

  it('gives an empty body for no lines', () => {
    expect(encodeLines([]).length).toBe(0);
  });
});
